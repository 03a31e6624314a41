package boltstore

import (
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// maxGroup bounds the calls one group commit takes, and so the size of
// its transaction.
const maxGroup = 256

// groupCommit runs write transactions of concurrent callers together: a
// call that finds no commit running commits at once, alone; calls that
// arrive while a commit runs wait for it and then share the next one, with
// its page writes and fsyncs. Unlike db.Batch nothing waits on a timer, so
// a lone call is not delayed and a busy store makes its commits as large
// as the load. Each call's function may run more than once (alone, after
// the shared transaction failed in another call's function): it must
// start over each time.
type groupCommit struct {
	db *bolt.DB

	mu      sync.Mutex
	pending []groupCall
	running bool
}

type groupCall struct {
	fn  func(*bolt.Tx) error
	err chan error
}

// do runs fn in a write transaction shared with the calls waiting at the
// time, and returns its error (or the commit's).
func (g *groupCommit) do(fn func(*bolt.Tx) error) error {
	c := groupCall{fn: fn, err: make(chan error, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, c)
	if !g.running {
		g.running = true
		go g.loop()
	}
	g.mu.Unlock()
	return <-c.err
}

// loop commits what is pending, group after group, until nothing is.
func (g *groupCommit) loop() {
	for {
		g.mu.Lock()
		n := min(len(g.pending), maxGroup)
		if n == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		calls := g.pending[:n:n]
		g.pending = append([]groupCall(nil), g.pending[n:]...)
		g.mu.Unlock()
		g.commit(calls)
	}
}

// commit runs calls in one transaction. A call whose function fails is
// taken out and run alone, and the others are run again together without
// it, as db.Batch does.
func (g *groupCommit) commit(calls []groupCall) {
	for len(calls) > 0 {
		failed := -1
		err := g.db.Update(func(tx *bolt.Tx) error {
			for i, c := range calls {
				if err := safely(c.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, c := range calls {
				c.err <- err // nil, or the commit's error
			}
			return
		}
		c := calls[failed]
		calls = append(calls[:failed:failed], calls[failed+1:]...)
		if len(calls) == 0 {
			c.err <- err
			return
		}
		c.err <- g.db.Update(func(tx *bolt.Tx) error { return safely(c.fn, tx) })
	}
}

// safely calls fn, turning a panic into an error.
func safely(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return fn(tx)
}
