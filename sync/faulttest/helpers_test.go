package faulttest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anshim/anshim/checkin"
	"github.com/anshim/anshim/kiosk"
	"github.com/anshim/anshim/pass"
	bolt "go.etcd.io/bbolt"
)

// fillOutbox writes n records straight into the stopped kiosk's outbox, as
// a kiosk offline for span would have: wall times spread evenly over the
// span before now (one boot a day, the clock NTP-synced), every fifth an
// exit, sealed to the province key, no debouncing. workers goroutines
// append at once, so commits group as scans arriving together do.
func fillOutbox(t *testing.T, c *cluster, k *kioskNode, l *ledger, n int, span time.Duration, workers int) {
	t.Helper()
	dev, err := kiosk.LoadDevice(k.data)
	if err != nil {
		t.Fatal(err)
	}
	ob, err := kiosk.OpenOutbox(filepath.Join(k.data, kiosk.FileOutbox), dev.PrivateKey())
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	sealer := checkin.NewSealer(c.keys.SealingPublicKey(), 256, nil)
	defer sealer.Close()
	now := time.Now()
	days := max(int(span/(24*time.Hour)), 1)
	boots := make([][16]byte, days+1)
	for i := range boots {
		rand.Read(boots[i][:])
	}
	jobs := make(chan int)
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				var per checkin.Personal
				rand.Read(per.Pseudonym[:])
				per.PassKind, per.Serial = uint8(pass.KindApp), uint32(i)
				sealed, err := sealer.Seal(per)
				if err != nil {
					errc <- err
					return
				}
				wall := now.Add(-span + time.Duration(int64(span)/int64(n)*int64(i))).UTC()
				day := int(wall.Sub(now.Add(-span)) / (24 * time.Hour))
				bootStart := now.Add(-span + time.Duration(day)*24*time.Hour - time.Minute)
				at := kiosk.Stamp{Wall: wall, Quality: checkin.NTPSynced, Boot: boots[day], Mono: wall.Sub(bootStart)}
				kind := checkin.Entry
				if i%5 == 4 {
					kind = checkin.Exit
				}
				var tag [16]byte
				rand.Read(tag[:])
				a, err := ob.Append(context.Background(), kiosk.Entry{At: at, Kind: kind, Sealed: sealed, Tag: tag})
				if err != nil {
					errc <- err
					return
				}
				l.appended(k.device, per.Pseudonym, a.Seq, at, kind)
			}
		})
	}
	for i := range n {
		select {
		case jobs <- i:
		case err := <-errc:
			close(jobs)
			wg.Wait()
			t.Fatal(err)
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errc:
		t.Fatal(err)
	default:
	}
	if p, err := ob.Pending(); err != nil || p < n {
		t.Fatalf("outbox holds %d records after writing %d: %v", p, n, err)
	}
}

// flappyProxy is a TCP proxy between kiosks and NATS whose link goes down
// on command: every connection through it is cut and new ones are refused
// (nothing listens) until it comes up again, on the same address.
type flappyProxy struct {
	t      *testing.T
	addr   string
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	cuts  int // connections cut
	total int // connections accepted

	stalled atomic.Bool  // bytes are dropped, not forwarded
	dropped atomic.Int64 // bytes dropped
}

func newFlappyProxy(t *testing.T) *flappyProxy {
	p := &flappyProxy{t: t, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.down)
	return p
}

// up listens again on the proxy's address.
func (p *flappyProxy) up() {
	p.t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port was ours a moment ago; retry a busy bind
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("proxy up: %v", err)
	}
	p.serve(ln)
}

func (p *flappyProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

// setTarget sets the address connections are forwarded to.
func (p *flappyProxy) setTarget(addr string) {
	p.mu.Lock()
	p.target = addr
	p.mu.Unlock()
}

func (p *flappyProxy) pipe(c net.Conn) {
	p.mu.Lock()
	target := p.target
	p.mu.Unlock()
	s, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // went down meanwhile
		p.mu.Unlock()
		c.Close()
		s.Close()
		return
	}
	p.conns[c], p.conns[s] = struct{}{}, struct{}{}
	p.total++
	p.mu.Unlock()
	var wg sync.WaitGroup
	cp := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				if p.stalled.Load() { // the link is dying: bytes are lost
					p.dropped.Add(int64(n))
				} else if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		dst.Close()
		src.Close()
	}
	wg.Go(func() { cp(s, c) })
	wg.Go(func() { cp(c, s) })
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, s)
	p.mu.Unlock()
}

// down cuts every connection (with a reset, as a dropped link looks to the
// peer that writes next) and stops listening.
func (p *flappyProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
		p.cuts++
		delete(p.conns, c)
	}
}

// flap takes the link down every upFor (drawn from its range) for downFor,
// until ctx is done, and leaves it up. It returns the number of outages.
// Each outage starts as a dying link does: for stall (drawn from 0 to
// stall) every byte in either direction is lost, without a close; then the
// connections are reset.
func (p *flappyProxy) flap(ctx context.Context, upMin, upMax, downFor, stall time.Duration) int {
	n := 0
	for {
		sleepCtx(ctx, randDuration(upMin, upMax))
		if ctx.Err() != nil {
			return n
		}
		p.stalled.Store(true)
		time.Sleep(randDuration(0, stall))
		p.down()
		p.stalled.Store(false)
		n++
		sleepCtx(context.Background(), downFor)
		p.up()
	}
}

func (p *flappyProxy) stats() (cuts, total int, dropped int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cuts / 2, p.total, p.dropped.Load()
}

// flipWallByte flips the lowest byte of the wall time of the record at
// seq inside the outbox file, with bbolt: the record still decodes, at its
// sequence, for its device, but it is no longer what the kiosk chained and
// signed. The kiosk must be stopped.
func flipWallByte(t *testing.T, outbox string, seq uint64) {
	t.Helper()
	err := editRecord(outbox, seq, func(v []byte) error {
		r, err := checkin.Decode(v)
		if err != nil {
			return err
		}
		// version, device length, device, seq, venue length, venue, wall (8)
		off := 1 + 1 + len(r.Device) + 8 + 1 + len(r.Venue) + 7
		if binary.BigEndian.Uint64(v[off-7:]) != uint64(r.Wall.UnixNano()) {
			return errors.New("record layout is not the one this test knows")
		}
		v[off] ^= 0x01
		if _, err := checkin.Decode(v); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// editRecord changes the stored bytes of the record at seq in an outbox
// file, behind the kiosk's back.
func editRecord(path string, seq uint64, edit func(v []byte) error) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("records"))
		if b == nil {
			return errors.New("outbox has no records bucket")
		}
		key := binary.BigEndian.AppendUint64(nil, seq)
		v := b.Get(key)
		if v == nil {
			return fmt.Errorf("outbox has no record %d", seq)
		}
		v = bytes.Clone(v)
		if err := edit(v); err != nil {
			return err
		}
		return b.Put(key, v)
	})
}

// countCommits returns the number of commits in a stopped kiosk's outbox
// that still have records: each keeps its signed head.
func countCommits(t *testing.T, outbox string) int {
	t.Helper()
	db, err := bolt.Open(outbox, 0o600, &bolt.Options{Timeout: 2 * time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 0
	db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte("heads")); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n
}
