// Package wire is the sync protocol between a kiosk and the central
// (docs/sync.md): every subject, stream, bucket, id and message the two
// sides exchange is defined here once, with its format and parser. The
// kiosk's uplink (sync/uplink, kiosk/enroll) and the central (central,
// sync/ingest) import it and nothing of each other.
//
// # Subjects
//
//	anshim.checkins.<venue>.<device>  kiosk → stream Stream: a Batch         CheckInSubject, ParseCheckInSubject
//	anshim.receipts.<device>          central → kiosk: a ledger.Receipt       ReceiptSubject, ParseReceiptSubject
//	anshim.ledger.receipt             request-reply: ReceiptRequest → LedgerReply      SubjectReceiptRequest
//	anshim.ledger.consistency         request-reply: ConsistencyRequest → LedgerReply  SubjectConsistencyRequest
//	anshim.ledger.checkpoint          request-reply: anything → LedgerReply            SubjectCheckpointRequest
//	anshim.alerts.<device>            request-reply: Evidence → LedgerReply   AlertSubject, ParseAlertSubject
//	_INBOX_<device>.>                 a device's replies and watch deliveries InboxPrefix, ParseInboxPrefix
//
// The stream is [Stream] (ANSHIM_CHECKINS) on [CheckInsWildcard]. A
// message delivered by a JetStream consumer on any of these subjects is
// not the peer's ([IsStreamDelivery]).
//
// # Buckets
//
//	anshim_revoked   revocation id (CheckRevocationID) → RevokedValue "1"
//	anshim_passkeys  PassKeyName (8 hex) → key update of FormatPassKey / ParsePassKey
//	anshim_sealing   SealingKeyCurrent "current" → key update of SealingKey
//	anshim_venues    venue id → VenueSettings
//	anshim_witness   device id → Gossip (each device writes its own key)
//
// The first four are the down-sync buckets ([DownSyncBuckets]). Key
// updates are province.KeyUpdate envelopes signed by the province's root
// key; this package holds their payloads.
//
// # Ids
//
// A device id is [DeviceID] of the device's Ed25519 key ("k-" and 16 hex
// digits, [ValidDeviceID]); a venue id is 1 to 64 letters, digits, '-' and
// '_' ([ValidVenueID]). Both are single subject tokens.
//
// # Messages
//
// JSON, each a Go type with its field tags: [EnrollRequest] and
// [Enrollment] (HTTP POST [EnrollPath]); [ReceiptRequest],
// [ConsistencyRequest], [LedgerReply], [Evidence] and [Gossip] (the
// ledger); [VenueSettings] and [SealingKey] (down-sync values). The golden
// vectors in testdata pin each one's encoding.
//
// # Batch encoding (version 1)
//
// A [Batch] is binary:
//
//	magic     "ANB1"
//	device    u8 length + bytes
//	venue     u8 length + bytes
//	prev      32 bytes: chain hash before the first record
//	head      u64 seq || 32-byte hash || 64-byte Ed25519 signature (checkin.Head)
//	sent      i64 wall (Unix ns) || u8 quality || 16-byte boot id || i64 mono (ns)
//	count     u16 (1..MaxRecords)
//	records   count × (u16 length + canonical checkin record)
//
// The records are consecutive: the first has sequence head.seq − count + 1.
// Decoding checks the structure and that every record decodes and belongs
// to the batch's device; signatures and chain continuity are the central's
// to check (Verify does the part that needs only the device key).
package wire
