//go:build !race

package lsp_test

const race = false
