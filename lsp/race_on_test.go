//go:build race

package lsp_test

// race is true under the race detector, which makes the big exchanges about ten times slower;
// they then move fewer messages, since the detector checks interleavings, not volume.
const race = true
