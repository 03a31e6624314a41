package central

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/anshim/anshim/central/store"
)

// seenEvery is how often the people seen in check-ins are marked as still
// using Anshim (the vault destroys identities unused for 8 weeks).
const seenEvery = time.Minute

// seenSet collects the pseudonyms of ingested check-ins between flushes.
type seenSet struct {
	mu sync.Mutex
	m  map[[16]byte]struct{}
}

func (s *seenSet) add(ps [][16]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[[16]byte]struct{})
	}
	for _, p := range ps {
		s.m[p] = struct{}{}
	}
}

func (s *seenSet) take() map[[16]byte]struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.m
	s.m = nil
	return m
}

// touchSeen marks the people seen since the last flush as used now. A
// pseudonym that belongs to no registered person (a pass from before the
// vault, or a destroyed identity) is skipped.
func (s *Server) touchSeen(ctx context.Context, now time.Time) error {
	var errs []error
	for p := range s.seen.take() {
		person, err := s.store.PersonByPseudonym(ctx, p)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err == nil {
			err = s.store.TouchPerson(ctx, person.ID, now)
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
