package bitcoin_test

import (
	"testing"

	"ds440/internal/testutil"
)

// TestMain builds the programs the tests run once for the whole package, and removes them at
// the end.
func TestMain(m *testing.M) { testutil.Main(m) }
