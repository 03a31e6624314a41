package central

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/province"
	"github.com/anshim/anshim/sync/wire"
)

// downSync holds the down-sync KV buckets (docs/sync.md, "Down-sync").
type downSync struct {
	revoked, passKeys, sealing, venues jetstream.KeyValue
}

// ensureBuckets creates the four down-sync buckets, or binds them if they
// exist: file storage, one value per key.
func ensureBuckets(ctx context.Context, js jetstream.JetStream, replicas int) (*downSync, error) {
	descs := map[string]string{
		wire.BucketRevoked:  "Anshim: revoked passes (revocation id -> 1)",
		wire.BucketPassKeys: "Anshim: pass verification keys (key id -> root-signed key update of the base64 Ed25519 key)",
		wire.BucketSealing:  "Anshim: record-sealing key (current -> root-signed key update of {id, key})",
		wire.BucketVenues:   "Anshim: venue settings (venue id -> JSON)",
	}
	buckets := wire.DownSyncBuckets()
	kvs := make(map[string]jetstream.KeyValue, len(buckets))
	for _, b := range buckets {
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
		revoked:  kvs[wire.BucketRevoked],
		passKeys: kvs[wire.BucketPassKeys],
		sealing:  kvs[wire.BucketSealing],
		venues:   kvs[wire.BucketVenues],
	}, nil
}

// publishKeys makes the pass-key and sealing buckets hold exactly the
// province's current public keys, each value a key update signed by the
// province's root key (province.KeyUpdate), which kiosks verify against
// their bundle. A value that already holds the same key under a valid
// signature is not written again, so kiosks see no spurious updates at
// each start. Keys without a root key are refused ([province.ErrNoRootKey]).
func (d *downSync) publishKeys(ctx context.Context, keys *province.Keys, now time.Time) error {
	if !keys.HasRootKey() {
		return fmt.Errorf("publish key updates: %w", province.ErrNoRootKey)
	}
	bundle := keys.Bundle()
	want := make(map[string][]byte)
	for _, k := range keys.PassKeys() {
		want[wire.PassKeyName(k.ID)] = wire.FormatPassKey(k)
	}
	if err := syncSigned(ctx, d.passKeys, keys, bundle, province.KindPassKey, want, now); err != nil {
		return err
	}
	sv, err := wire.SealingKey{ID: keys.SealingKeyID(), Key: *keys.SealingPublicKey()}.Marshal()
	if err != nil {
		return err
	}
	return syncSigned(ctx, d.sealing, keys, bundle, province.KindSealingKey, map[string][]byte{wire.SealingKeyCurrent: sv}, now)
}

// syncSigned makes kv hold exactly the payloads of want, by key, each as a
// key update of kind signed at now. Values that open with bundle to the
// same payload are kept.
func syncSigned(ctx context.Context, kv jetstream.KeyValue, keys *province.Keys, bundle *province.Bundle, kind string, want map[string][]byte, now time.Time) error {
	signed := make(map[string][]byte, len(want))
	for name, payload := range want {
		if e, err := kv.Get(ctx, name); err == nil {
			if u, err := bundle.OpenKeyUpdate(e.Value(), kind, name); err == nil && bytes.Equal(u.Payload, payload) {
				signed[name] = e.Value()
				continue
			}
		} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
			return fmt.Errorf("KV %s: get %s: %w", kv.Bucket(), name, err)
		}
		s, err := keys.SignKeyUpdate(province.KeyUpdate{Kind: kind, Name: name, Issued: now, Payload: payload})
		if err != nil {
			return fmt.Errorf("KV %s: sign %s: %w", kv.Bucket(), name, err)
		}
		signed[name] = province.FormatKeyUpdate(s)
	}
	return syncBucket(ctx, kv, signed, true)
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
	vs := wire.VenueSettings{Name: v.Name, Category: string(c), DefaultStay: fmt.Sprintf("%dm", stay)}
	if v.DebounceSeconds != 0 {
		vs.Debounce = (time.Duration(v.DebounceSeconds) * time.Second).String()
	}
	return vs.Marshal()
}

// revoke marks a revocation id revoked.
func (d *downSync) revoke(ctx context.Context, id string) error {
	return syncBucket(ctx, d.revoked, map[string][]byte{id: []byte(wire.RevokedValue)}, false)
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
