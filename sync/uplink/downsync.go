package uplink

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// maxUpdates bounds the updates handed to the Sink in one call (and so in
// one outbox commit).
const maxUpdates = 1024

// errWatchEnded means the watcher's channel closed (its consumer could not
// be recreated, or the connection closed).
var errWatchEnded = errors.New("watch ended")

// errReconnected ends a watch at a reconnect: the server may have lost the
// watch's consumer (a restart), and waiting for the client to notice its
// missing heartbeats would leave the kiosk deaf for seconds.
var errReconnected = errors.New("reconnected")

// follow keeps a watch on one bucket for as long as ctx lasts: every
// (re)start delivers the bucket's current contents as a snapshot, then the
// updates as they are pushed. The watch starts over at each reconnect and
// whenever it ends.
func (u *Uplink) follow(ctx context.Context, nc *nats.Conn, w Watch) {
	js, err := jetstream.New(nc)
	if err != nil {
		u.setErr("sync: down-sync", err, "bucket", w.Bucket)
		return
	}
	for attempt := 1; ; attempt++ {
		if !u.waitConnected(ctx, nc) {
			return
		}
		start := u.cfg.Clock().Mono
		err := u.watch(ctx, js, w)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errReconnected) {
			attempt = 0
			continue
		}
		if u.cfg.Clock().Mono-start > time.Minute {
			attempt = 1 // it worked for a while: start the backoff over
		}
		u.setErr("sync: down-sync watch", watchHint(err, w), "bucket", w.Bucket)
		if !sleep(ctx, u.backoff(attempt)) {
			return
		}
	}
}

// watch runs one watch of a bucket until it ends or ctx is done.
func (u *Uplink) watch(ctx context.Context, js jetstream.JetStream, w Watch) error {
	recon := u.reconnected()
	bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	kv, err := js.KeyValue(bctx, w.Bucket)
	cancel()
	if err != nil {
		return err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var kw jetstream.KeyWatcher
	if w.Keys == "" {
		kw, err = kv.WatchAll(wctx)
	} else {
		kw, err = kv.Watch(wctx, w.Keys)
	}
	if err != nil {
		return err
	}
	defer kw.Stop()
	updates := kw.Updates()

	snapshot := map[string]Change{}
	initial := true
	for {
		var e jetstream.KeyValueEntry
		var ok bool
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-recon:
			return errReconnected
		case e, ok = <-updates:
		}
		if !ok {
			return errWatchEnded
		}
		if initial {
			if e == nil { // the bucket's current contents are all in
				initial = false
				changes := make([]Change, 0, len(snapshot))
				for _, c := range snapshot {
					changes = append(changes, c)
				}
				u.apply(w.Bucket, changes, true)
				snapshot = nil
				continue
			}
			if c := changeOf(e); c.Value != nil {
				snapshot[c.Key] = c
			} else {
				delete(snapshot, c.Key)
			}
			continue
		}
		if e == nil {
			continue
		}
		// Hand over what already arrived in one call (one commit).
		batch := []Change{changeOf(e)}
	more:
		for len(batch) < maxUpdates {
			select {
			case e, ok := <-updates:
				if !ok {
					u.apply(w.Bucket, batch, false)
					return errWatchEnded
				}
				if e != nil {
					batch = append(batch, changeOf(e))
				}
			default:
				break more
			}
		}
		u.apply(w.Bucket, batch, false)
	}
}

func (u *Uplink) apply(bucket string, changes []Change, snapshot bool) {
	if err := u.cfg.Sink.Apply(bucket, changes, snapshot); err != nil {
		u.setErr("sync: apply down-sync", err, "bucket", bucket)
		return
	}
	if snapshot {
		u.log.Info("sync: down-sync bucket loaded", "bucket", bucket, "keys", len(changes))
	}
}

func changeOf(e jetstream.KeyValueEntry) Change {
	c := Change{Key: e.Key(), Revision: e.Revision()}
	if e.Operation() == jetstream.KeyValuePut {
		c.Value = e.Value()
		if c.Value == nil {
			c.Value = []byte{}
		}
	}
	return c
}

func watchHint(err error, w Watch) error {
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return fmt.Errorf("%w (the central has not created bucket %s yet; the kiosk keeps its cached values)", err, w.Bucket)
	}
	return withHint(err)
}
