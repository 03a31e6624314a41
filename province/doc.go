// Package province manages a province's keys and the public bundle that
// kiosks and other verifiers need.
//
// # Keys
//
// [Generate] makes a province's secret keys:
//
//   - pass-signing Ed25519 keys, each with a 4-byte key id (see
//     [pass.KeyIDOf]); [Keys.RotatePassKey] adds a new current key while the
//     older ones stay valid;
//   - a record-sealing X25519 key pair with a key id: kiosks seal every
//     check-in record to its public half;
//   - a ledger signing key in the signed-note format of
//     golang.org/x/mod/sumdb/note;
//   - a 32-byte key-encryption key (KEK) for the identity vault and the
//     per-day data keys;
//   - a root Ed25519 key that signs key updates (see below). Key
//     directories made before it existed lack it; [Keys.AddRootKey] and
//     [Keys.Update] add one (`anshim keygen --dir DIR --add-root`).
//
// # Files
//
// [Keys.Save] writes one file per secret key, mode 0600, in a directory of
// mode 0700, and the public bundle [BundleFile], mode 0644. Each key file is
// text that starts with a versioned line, for example
//
//	anshim pass-signing keys v1
//	5f3a9c21 <base64 Ed25519 seed>
//	a0b1c2d3 <base64 Ed25519 seed>
//
// where the last pass key is the current one. [Load] reads the files back and
// refuses files that others can read or that do not re-encode to the same
// bytes.
//
// # Bundle
//
// The [Bundle] is all a kiosk needs: the pass verification keys, the sealing
// public key, the ledger verifier key and the root key, as versioned JSON.
// [Bundle.SHA256] is the hash of its file form, which `kiosk enroll
// --bundle-sha256` pins.
//
// # Key updates
//
// Keys that reach kiosks after enrollment — pass keys and the sealing key
// through the down-sync buckets, the NATS CA in the enrollment answer — are
// [KeyUpdate] values signed by the root key ([Keys.SignKeyUpdate],
// [FormatKeyUpdate]); a kiosk takes one only if the root key of its bundle
// verifies it ([Bundle.OpenKeyUpdate]).
package province
