package wire

// KV buckets of the sync protocol. The central creates them; a kiosk
// watches the down-sync ones and keeps their last values for offline use.
const (
	// BucketRevoked maps revocation ids (32 lower-case hex digits, see
	// [CheckRevocationID]) to [RevokedValue].
	BucketRevoked = "anshim_revoked"
	// BucketPassKeys maps pass key ids (8 hex digits, [PassKeyName]) to
	// root-signed key updates (province.KeyUpdate, kind
	// province.KindPassKey) of the base64 Ed25519 key ([FormatPassKey]).
	BucketPassKeys = "anshim_passkeys"
	// BucketSealing holds, under [SealingKeyCurrent], a root-signed key
	// update (kind province.KindSealingKey) of the current record-sealing
	// key ([SealingKey]).
	BucketSealing = "anshim_sealing"
	// BucketVenues maps venue ids to [VenueSettings] JSON.
	BucketVenues = "anshim_venues"
	// BucketWitness is where kiosks gossip their latest signed checkpoint
	// and fork evidence (key: device id, value: [Gossip] JSON). Each
	// device may write only its own key and watches all.
	BucketWitness = "anshim_witness"

	// SealingKeyCurrent is the one key of BucketSealing.
	SealingKeyCurrent = "current"
	// RevokedValue is the value of every key of BucketRevoked.
	RevokedValue = "1"
)

// DownSyncBuckets returns the four down-sync buckets a kiosk watches, in
// the order the central creates them.
func DownSyncBuckets() []string {
	return []string{BucketRevoked, BucketPassKeys, BucketSealing, BucketVenues}
}
