package main

import (
	"testing"

	"ds440/internal/testutil"
)

// TestMain builds the program the tests run once for the package and removes it at the end.
func TestMain(m *testing.M) { testutil.Main(m) }
