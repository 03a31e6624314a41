// Package layers holds the import rule of Anshim's packages and the test
// that enforces it. It has no code: the rule is in this comment and in
// layers_test.go, which fails on any package that breaks it.
//
// # The rule
//
// Every package of the module is on one floor:
//
//   - the ground floor, the formats and helpers both sides share:
//     checkin, pass, province, sync/wire, venuecode, ledger and
//     internal/... (but internal/demo);
//   - the kiosk side: kiosk/... (kiosk/enroll among them), hardware/..., sync/uplink,
//     cmd/kiosk;
//   - the central side: central/..., sync/ingest, notify, cmd/central;
//   - the top, which wires both sides together: cmd/anshim,
//     internal/demo, sync/faulttest, sync/syncbench, docs.
//
// A ground-floor package imports only ground-floor packages; a kiosk-side
// package only kiosk-side and ground-floor ones; a central-side package
// only central-side and ground-floor ones. So the kiosk and the central
// meet only on the ground floor, and the kiosk binary links nothing of
// the central. The ledger in particular imports only the standard library
// and golang.org/x/mod. Tests (_test.go files) may cross the floors: an
// end-to-end test of a kiosk runs a real central.
//
// A new package must be placed on a floor in layers_test.go, or the test
// fails naming it.
package layers
