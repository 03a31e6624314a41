package central

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/anshim/anshim/central/daykeys"
	"github.com/anshim/anshim/central/store"
	"github.com/anshim/anshim/province"
)

// Retention of check-ins: 28 KST days, today included. A day older than
// that has its check-ins and its quarantine entries dropped from the store
// and then its key destroyed, so that no copy of the store (a backup, a
// replica, a dump, free pages) can be read for it any more; each destroyed
// day leaves an audit event counting both.
const (
	RetentionDays  = 28
	DayKeysFile    = "daykeys" // the day-key ratchet, outside the store, 0600
	retentionEvery = 24 * time.Hour
)

// periodicPoll is how often periodic jobs read the server's clock (tests
// shorten it).
var periodicPoll = time.Minute

// openDayKeys opens the day-key ratchet in the data directory, creating it
// with the retention window as its first live days.
func (s *Server) openDayKeys() (*daykeys.Keys, error) {
	first := daykeys.DayOf(s.now()) - RetentionDays + 1
	k, err := daykeys.Open(filepath.Join(s.cfg.DataOrDefault(), DayKeysFile), s.keys.KEK()[:], first)
	if err != nil {
		return nil, fmt.Errorf("day keys: %w", err)
	}
	return k, nil
}

// ErrDayKeysMismatch means that the store is bound to another day-key
// ratchet than DATA/daykeys: its check-ins are sealed under keys this
// central does not hold.
var ErrDayKeysMismatch = errors.New("the store's check-ins are sealed with another day-key ratchet")

// bindDayKeys binds the store to the ratchet of DATA/daykeys when it is
// bound to none, and fails with ErrDayKeysMismatch when it is bound to
// another: a second central started without a copy of the first's
// DATA/daykeys would seal check-ins no other central can read, and read
// none of theirs, silently.
func bindDayKeys(ctx context.Context, st store.Store, k *daykeys.Keys, path string) error {
	fp, err := k.Fingerprint()
	if err != nil {
		return fmt.Errorf("day keys: %w", err)
	}
	bound, err := st.BindDayKeys(ctx, fp, false)
	if err != nil {
		return fmt.Errorf("day keys: %w", err)
	}
	if bound != fp {
		return fmt.Errorf("day keys: %s (fingerprint %x…) is not the ratchet of this store (%x…): %w; "+
			"copy DATA/daykeys from a central running on this store, or restore this central's from its backup, and start again "+
			"(if it is lost for good, 'central rebind-day-keys' binds the store to this file; the check-ins stored before stay unreadable)",
			path, fp[:4], bound[:4], ErrDayKeysMismatch)
	}
	return nil
}

// RebindDayKeys binds the store to the day-key ratchet in cfg's data
// directory (made if missing), replacing the ratchet it was bound to, and
// records it in the audit trail. It is the way out when a central's
// DATA/daykeys is lost for good: the check-ins sealed under the lost
// ratchet stay unreadable, and are destroyed with their days. It returns
// the fingerprints before and after.
func RebindDayKeys(ctx context.Context, cfg *Config, st store.Store) (before, after [32]byte, err error) {
	keys, err := province.Load(cfg.KeysOrDefault())
	if err != nil {
		return before, after, fmt.Errorf("province keys: %w", err)
	}
	now := cfg.NowOrDefault()()
	path := filepath.Join(cfg.DataOrDefault(), DayKeysFile)
	k, err := daykeys.Open(path, keys.KEK()[:], daykeys.DayOf(now)-RetentionDays+1)
	if err != nil {
		return before, after, fmt.Errorf("day keys: %w", err)
	}
	if after, err = k.Fingerprint(); err != nil {
		return before, after, fmt.Errorf("day keys: %w", err)
	}
	if before, err = st.BindDayKeys(ctx, after, false); err != nil {
		return before, after, fmt.Errorf("day keys: %w", err)
	}
	if before == after {
		return before, after, nil
	}
	if _, err := st.BindDayKeys(ctx, after, true); err != nil {
		return before, after, fmt.Errorf("day keys: %w", err)
	}
	detail, _ := json.Marshal(map[string]string{"before": hex.EncodeToString(before[:4]), "after": hex.EncodeToString(after[:4])})
	if _, err := st.AddAudit(ctx, store.AuditEvent{Time: now.UTC(), Kind: store.AuditDayKeysRebound, Detail: string(detail)}); err != nil {
		return before, after, fmt.Errorf("day keys: audit: %w", err)
	}
	return before, after, nil
}

// RunRetention drops and destroys every day past retention at now, oldest
// first, and returns the days destroyed. It is idempotent: a day dropped
// but whose key was not yet destroyed (a crash between) is finished.
func (s *Server) RunRetention(ctx context.Context, now time.Time) ([]daykeys.Day, error) {
	last := daykeys.DayOf(now) - RetentionDays // the newest day to destroy
	var done []daykeys.Day
	for d := s.dayKeys.Oldest(); d <= last; d++ {
		n, err := s.store.DropDay(ctx, d.Start().Add(12*time.Hour))
		if err != nil {
			return done, fmt.Errorf("retention: drop %s: %w", d, err)
		}
		qn, err := s.store.DropQuarantine(ctx, d.Start().Add(12*time.Hour))
		if err != nil {
			return done, fmt.Errorf("retention: drop the quarantine of %s: %w", d, err)
		}
		if err := s.dayKeys.DestroyThrough(d); err != nil {
			return done, fmt.Errorf("retention: destroy the key of %s: %w", d, err)
		}
		detail, _ := json.Marshal(map[string]any{"day": d.String(), "check_ins_dropped": n, "quarantined_dropped": qn, "key": "destroyed"})
		if _, err := s.store.AddAudit(ctx, store.AuditEvent{Time: now.UTC(), Kind: store.AuditDayDestroyed, Detail: string(detail)}); err != nil {
			return done, fmt.Errorf("retention: audit %s: %w", d, err)
		}
		s.log.Info("day destroyed: check-ins and quarantine entries dropped and the day key destroyed", "day", d.String(), "check_ins", n, "quarantined", qn)
		done = append(done, d)
	}
	// The console's saved traces name their case's pseudonym: they go
	// with the days they were traced from.
	tn, err := s.store.DropCaseTraces(ctx, (last + 1).Start())
	if err != nil {
		return done, fmt.Errorf("retention: drop saved traces: %w", err)
	}
	if tn > 0 {
		s.log.Info("saved traces past retention dropped", "traces", tn)
	}
	// So do the follow-ups and notifications of contacts.
	fn, nn, err := s.store.DropFollowUps(ctx, (last + 1).Start())
	if err != nil {
		return done, fmt.Errorf("retention: drop follow-ups: %w", err)
	}
	if fn+nn > 0 {
		s.log.Info("follow-ups past retention dropped", "follow_ups", fn, "notifications", nn)
	}
	// And the visitor app's inbox notices and check-in receipts, with the
	// expired codes and sessions.
	an, err := s.store.DropApp(ctx, now, (last + 1).Start())
	if err != nil {
		return done, fmt.Errorf("retention: drop app data: %w", err)
	}
	if an > 0 {
		s.log.Info("visitor app data past retention or expired dropped", "items", an)
	}
	return done, nil
}

// periodic runs fn at once and then every period by the server's clock
// (tests move it), until ctx is done. A failed run is tried again in an
// hour; a clock set back by more than a period runs at once.
func (s *Server) periodic(ctx context.Context, every time.Duration, fn func(ctx context.Context, now time.Time) error) {
	t := time.NewTicker(periodicPoll)
	defer t.Stop()
	var next time.Time // zero: at once
	for {
		if now := s.now(); !now.Before(next) || now.Add(every).Before(next) {
			next = now.Add(every)
			if err := fn(ctx, now); err != nil {
				if ctx.Err() != nil {
					return
				}
				s.log.Warn("periodic job failed; trying again in an hour", "err", err)
				next = now.Add(time.Hour)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
