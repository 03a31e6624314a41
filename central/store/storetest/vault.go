package storetest

import "testing"

// testVault holds the identity vault's conformance tests.
func testVault(t *testing.T, h *harness) {}
