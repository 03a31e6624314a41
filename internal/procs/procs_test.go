package procs

import (
	"runtime"
	"testing"
)

// Ensure that ForFsync doubles the runtime's choice, and leaves a
// GOMAXPROCS set in the environment alone.
func TestForFsync(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(3)
	if got := ForFsync(func(string) string { return "" }); got != 6 || runtime.GOMAXPROCS(0) != 6 {
		t.Errorf("ForFsync without GOMAXPROCS set = %d (GOMAXPROCS %d), want 6", got, runtime.GOMAXPROCS(0))
	}
	runtime.GOMAXPROCS(3)
	env := func(k string) string {
		if k == "GOMAXPROCS" {
			return "3"
		}
		return ""
	}
	if got := ForFsync(env); got != 3 || runtime.GOMAXPROCS(0) != 3 {
		t.Errorf("ForFsync with GOMAXPROCS=3 set = %d (GOMAXPROCS %d), want 3 unchanged", got, runtime.GOMAXPROCS(0))
	}
}
