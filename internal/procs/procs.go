// Package procs sizes the Go scheduler of a process that computes on every
// core and also waits on fsync: the central server with its bbolt store.
//
// A goroutine in a blocking system call keeps its P (its right to run Go
// code) until the runtime's monitor thread takes it back, and that thread
// polls less often the longer it finds nothing to do: with GOMAXPROCS equal
// to the cores, each of a busy store's fdatasync calls (two a commit, a
// millisecond or more each) can leave a core idle while goroutines wait
// to run. In BenchmarkIngestKiosks on 2 cores the central used 1.5 of them
// at GOMAXPROCS=2 and 1.8 at 4, and stored 1.23× as many check-ins a
// second (docs/benchmarks.md). CPU-bound pools (the ingest's opening of
// sealed parts) stay sized by the cores: runtime.NumCPU.
package procs

import (
	"runtime"
	"strconv"
)

// Factor is how many Ps ForFsync gives each core.
const Factor = 2

// ForFsync sets GOMAXPROCS to Factor times the value the runtime chose
// (the cores, or the container's CPU quota), unless the environment sets
// GOMAXPROCS, and returns the value in effect. getenv is os.Getenv.
func ForFsync(getenv func(string) string) int {
	if v := getenv("GOMAXPROCS"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return runtime.GOMAXPROCS(0) // the runtime read it at start
		}
	}
	n := Factor * runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(n)
	return n
}
