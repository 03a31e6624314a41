// Package syncbench holds the end-to-end benchmarks of the sync path
// (issue 3): a real central (central.New, embedded NATS with
// sync_interval: always, bbolt store) in the test process, fed by a real
// kiosk's uplink or by simulated kiosks, each figure reported next to a
// baseline measured in the same run (docs/benchmarks.md):
//
//	go test -run '^$' -bench . ./sync/syncbench
//
// The package has no code of its own: everything is in its _test.go files.
package syncbench
