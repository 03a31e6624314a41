// Package central is the province's central server of Anshim: it enrolls
// kiosks, hands out their NATS credentials, publishes what kiosks verify
// passes against, and ingests their batches of check-ins.
//
// # Parts
//
//   - The store ([store.Store], bbolt by default): venues, enrollment
//     tokens, devices, check-ins, quarantine.
//   - NATS JetStream: a server embedded in the process (the default, with
//     sync_interval always, so a kiosk's PubAck means the batch is on
//     disk) or an external cluster. Each enrolled kiosk is an nkey user
//     that may publish only its own check-in subject and the JetStream API
//     calls of KV watching, and subscribe only below its own inbox prefix
//     (see [DevicePermissions]). Enrollment reloads the embedded server's
//     users; for an external cluster the central writes
//     DATA/nats-devices.conf for the NATS servers to include and reload.
//   - The down-sync KV buckets of docs/sync.md: revoked passes, pass keys,
//     the sealing key and venue settings, filled from the province keys and
//     the store at start, and by [Server.RegisterVenue] and [Server.Revoke].
//   - Ingest of kiosk batches from the stream ANSHIM_CHECKINS (sync/ingest).
//   - An HTTP API ([Server.Handler]): enrollment for kiosks, venues, tokens,
//     devices and revocations for operators (bearer admin token), /health
//     and /metrics.
//
// # Lifecycle
//
// [New] opens the store and the province keys and creates the central's
// secrets in the data directory (admin.token and central.nk, mode 0600);
// [Server.Start] starts everything without blocking; [Server.Wait] blocks
// until a context ends or a part fails; [Server.Close] stops it all.
// [Server.StopNATS] and [Server.StartNATS] take the embedded NATS server
// down and up again on the same port and JetStream files, as in an outage.
package central
