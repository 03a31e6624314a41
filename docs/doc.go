// Package docs holds Anshim's documents — design.md (the architecture as
// built), config.md (every setting of the kiosk's and the central's
// configuration), sync.md, ledger.md and benchmarks.md — and the tests that
// keep them true to the code.
//
// # What the tests hold config.md to
//
// Every JSON field of kiosk.Config, central.Config and uplink.Settings (the
// files an installer writes or edits) has a table row under the heading that
// names its struct, every row names a field that exists, and every flag of
// `kiosk run` and `central serve` is mentioned in its command's section and
// exists. Every JSON example in config.md, and systemd/kiosk.json.example,
// loads and validates with the loader of its file. The internal settings
// (kiosk/display.Config, sync/uplink.Config, sync/ingest.Config,
// central/web.Options) are set by code, not files: config.md may name
// their fields, and the names must exist.
//
// Adding a config field or a flag without documenting it fails `go test
// ./docs`, with a message naming the field and the table to add it to.
package docs
