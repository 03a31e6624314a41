package uplink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/anshim/anshim/ledger"
	"github.com/anshim/anshim/sync/wire"
)

// gossip keeps the device's wire.Gossip value in wire.BucketWitness up to date (at
// most once per CheckpointPoll, when it changed) and hands every other
// kiosk's value to the Witness, until ctx is done. A fork one kiosk sees
// thus reaches every kiosk, whatever the central says (docs/ledger.md).
func (u *Uplink) gossip(ctx context.Context, nc *nats.Conn, l LedgerClient) {
	js, err := jetstream.New(nc)
	if err != nil {
		u.setErr("ledger gossip", err)
		return
	}
	for fails := 1; ctx.Err() == nil; fails++ {
		err := u.watchGossip(ctx, js, l)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			// A central without the bucket (older): look again later.
			u.log.Debug("ledger gossip: no witness bucket", "bucket", wire.BucketWitness)
			if !sleep(ctx, u.checkpointPoll()) {
				return
			}
			continue
		}
		u.setErr("ledger gossip: watch failed, will retry", err, "bucket", wire.BucketWitness)
		if !sleep(ctx, max(u.backoff(fails), time.Second)) {
			return
		}
	}
}

// watchGossip follows the bucket until it fails or ctx is done.
func (u *Uplink) watchGossip(ctx context.Context, js jetstream.JetStream, l LedgerClient) error {
	kv, err := js.KeyValue(ctx, wire.BucketWitness)
	if err != nil {
		return fmt.Errorf("bind %s: %w", wire.BucketWitness, err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	kw, err := kv.WatchAll(wctx)
	if err != nil {
		return fmt.Errorf("watch %s: %w", wire.BucketWitness, err)
	}
	defer kw.Stop()
	put := time.NewTimer(0)
	defer put.Stop()
	var last []byte
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-put.C:
			put.Reset(u.checkpointPoll())
			v, err := u.cfg.Witness.Gossip()
			if err != nil || v == nil || bytes.Equal(v, last) {
				continue
			}
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_, err = kv.Put(pctx, u.cfg.Device, v)
			cancel()
			if err != nil {
				u.setErr("ledger gossip: put failed, will retry", err)
				continue
			}
			last = v
		case e, ok := <-kw.Updates():
			if !ok {
				return errors.New("watch ended")
			}
			if e == nil || e.Key() == u.cfg.Device || e.Operation() != jetstream.KeyValuePut {
				continue
			}
			if len(e.Value()) > wire.MaxGossipBytes {
				u.log.Debug("ledger gossip: value too large, ignored", "peer", e.Key(), "bytes", len(e.Value()))
				continue
			}
			err := u.cfg.Witness.Peer(ctx, e.Key(), e.Value(), l)
			switch {
			case errors.Is(err, ledger.ErrFork):
				u.setErr("ledger fork seen through a peer kiosk", err, "peer", e.Key())
			case err != nil:
				u.log.Debug("ledger gossip: peer value not checked", "peer", e.Key(), "err", err)
			}
		}
	}
}
