package central

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/province"
)

// downSync holds the down-sync KV buckets (docs/sync.md, "Down-sync").
type downSync struct {
	revoked, passKeys, sealing, venues jetstream.KeyValue
}

// ensureBuckets creates the four down-sync buckets, or binds them if they
// exist: file storage, one value per key.
func ensureBuckets(ctx context.Context, js jetstream.JetStream, replicas int) (*downSync, error) {
	descs := map[string]string{
		BucketRevoked:  "Anshim: revoked passes (revocation id -> 1)",
		BucketPassKeys: "Anshim: pass verification keys (key id -> base64 Ed25519)",
		BucketSealing:  "Anshim: record-sealing key (current -> {id, key})",
		BucketVenues:   "Anshim: venue settings (venue id -> JSON)",
	}
	kvs := make(map[string]jetstream.KeyValue, len(Buckets))
	for _, b := range Buckets {
		kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      b,
			Description: descs[b],
			History:     1,
			Storage:     jetstream.FileStorage,
			Replicas:    replicas,
		})
		if err != nil {
			return nil, fmt.Errorf("KV bucket %s: %w", b, err)
		}
		kvs[b] = kv
	}
	return &downSync{
		revoked:  kvs[BucketRevoked],
		passKeys: kvs[BucketPassKeys],
		sealing:  kvs[BucketSealing],
		venues:   kvs[BucketVenues],
	}, nil
}

// sealingValue is the value of the sealing bucket's "current" key.
type sealingValue struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

// VenueSettings is the value of a venue in the venues bucket, as kiosks
// read it. The venue's status is not in it: a suspended venue's kiosks
// keep working as before.
type VenueSettings struct {
	Name     string            `json:"name"`
	Category registry.Category `json:"category"`
	// DefaultStay is the stay of a visitor who never scanned out, as a Go
	// duration in whole minutes ("45m").
	DefaultStay string `json:"default_stay"`
	// Debounce is the same-pass window the venue's kiosks apply, as a Go
	// duration ("5m0s"; "-1s": off), unless a kiosk's own configuration
	// sets one; absent when the venue leaves the kiosks' default (10
	// minutes). See [Server.SetVenueDebounce].
	Debounce string `json:"debounce,omitempty"`
}

// publishKeys makes the pass-key and sealing buckets hold exactly the
// province's current public keys. Values that are already right are not
// written again, so kiosks see no spurious updates at each start.
func (d *downSync) publishKeys(ctx context.Context, keys *province.Keys) error {
	want := make(map[string][]byte)
	for _, k := range keys.PassKeys() {
		want[fmt.Sprintf("%08x", k.ID)] = []byte(base64.StdEncoding.EncodeToString(k.Key))
	}
	if err := syncBucket(ctx, d.passKeys, want, true); err != nil {
		return err
	}
	sv, err := json.Marshal(sealingValue{
		ID:  keys.SealingKeyID(),
		Key: base64.StdEncoding.EncodeToString(keys.SealingPublicKey()[:]),
	})
	if err != nil {
		return err
	}
	return syncBucket(ctx, d.sealing, map[string][]byte{"current": sv}, true)
}

// publishVenues puts every venue of the store into the venues bucket.
func (d *downSync) publishVenues(ctx context.Context, venues []store.Venue) error {
	want := make(map[string][]byte, len(venues))
	for _, v := range venues {
		val, err := venueValue(v)
		if err != nil {
			return err
		}
		want[v.ID] = val
	}
	return syncBucket(ctx, d.venues, want, false)
}

// publishVenue puts one venue into the venues bucket.
func (d *downSync) publishVenue(ctx context.Context, v store.Venue) error {
	val, err := venueValue(v)
	if err != nil {
		return err
	}
	return syncBucket(ctx, d.venues, map[string][]byte{v.ID: val}, false)
}

// venueValue returns the venue settings JSON of v. A venue stored before
// the registry (no category) is published as other, with its stay.
func venueValue(v store.Venue) ([]byte, error) {
	c, stay := v.Category, v.DefaultStay
	if c == "" {
		c = registry.Other
	}
	if stay == 0 {
		stay = registry.Stays(nil).Of(c)
	}
	vs := VenueSettings{Name: v.Name, Category: c, DefaultStay: fmt.Sprintf("%dm", stay)}
	if v.DebounceSeconds != 0 {
		vs.Debounce = (time.Duration(v.DebounceSeconds) * time.Second).String()
	}
	return json.Marshal(vs)
}

// revoke marks a revocation id revoked.
func (d *downSync) revoke(ctx context.Context, id string) error {
	return syncBucket(ctx, d.revoked, map[string][]byte{id: []byte("1")}, false)
}

// syncBucket puts the keys of want whose value differs, and with exclusive
// deletes the keys that want does not hold.
func syncBucket(ctx context.Context, kv jetstream.KeyValue, want map[string][]byte, exclusive bool) error {
	for k, v := range want {
		e, err := kv.Get(ctx, k)
		switch {
		case err == nil && bytes.Equal(e.Value(), v):
			continue
		case err != nil && !errors.Is(err, jetstream.ErrKeyNotFound):
			return fmt.Errorf("KV %s: get %s: %w", kv.Bucket(), k, err)
		}
		if _, err := kv.Put(ctx, k, v); err != nil {
			return fmt.Errorf("KV %s: put %s: %w", kv.Bucket(), k, err)
		}
	}
	if !exclusive {
		return nil
	}
	keys, err := kv.Keys(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
		return fmt.Errorf("KV %s: list keys: %w", kv.Bucket(), err)
	}
	for _, k := range keys {
		if _, ok := want[k]; !ok {
			if err := kv.Delete(ctx, k); err != nil {
				return fmt.Errorf("KV %s: delete %s: %w", kv.Bucket(), k, err)
			}
		}
	}
	return nil
}

// checkRevocationID checks a revocation id: 32 lower-case hex digits.
func checkRevocationID(id string) error {
	b, err := hex.DecodeString(id)
	if err != nil || len(b) != 16 || hex.EncodeToString(b) != id {
		return fmt.Errorf("revocation id %q: want 32 lower-case hex digits", id)
	}
	return nil
}
