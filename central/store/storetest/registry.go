package storetest

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anshim/anshim/central/registry"
	"github.com/anshim/anshim/central/store"
)

// testRegistry holds the venue registry's conformance tests.
func testRegistry(t *testing.T, h *harness) {
	for _, tt := range []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"Fields", testRegistryFields},
		{"BusinessNumber_Unique", testRegistryBusinessNumberUnique},
		{"BusinessNumber_Concurrent", testRegistryBusinessNumberConcurrent},
		{"Status", testRegistryStatus},
		{"Status_Legacy", testRegistryStatusLegacy},
		{"Debounce", testRegistryDebounce},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, &harness{t: t, open: h.open, ctx: h.ctx})
		})
	}
}

// registeredVenue returns a complete venue whose fields derive from n,
// with a valid business number.
func registeredVenue(t *testing.T, n int) store.Venue {
	t.Helper()
	return store.Venue{
		ID:             fmt.Sprintf("v-%d", n),
		Name:           fmt.Sprintf("카페 한라 %d 'Café' \"%d\"", n, n),
		BusinessNumber: businessNumber(t, n),
		Address:        fmt.Sprintf("제주특별자치도 제주시 중앙로 %d", n),
		Category:       registry.Categories()[n%len(registry.Categories())],
		DefaultStay:    15 + n,
		Location:       registry.Location{Lat: 33.499612345678901 + float64(n)*1e-7, Lon: 126.53121234567891 - float64(n)*1e-7},
		OwnerPhone:     fmt.Sprintf("+8210%08d", 20000000+n),
		Status:         registry.StatusApplied,
		Created:        base.Add(time.Duration(n) * time.Minute),
		Updated:        base.Add(time.Duration(n)*time.Minute + time.Second),
	}
}

// businessNumber returns a valid business number made from n.
func businessNumber(t *testing.T, n int) string {
	t.Helper()
	for c := range 10 {
		if s, err := registry.ParseBusinessNumber(fmt.Sprintf("%09d%d", 100000000+n, c)); err == nil {
			return s
		}
	}
	t.Fatalf("no check digit for %d", n)
	return ""
}

func checkVenue(t *testing.T, s store.Store, want store.Venue) {
	t.Helper()
	got, err := s.Venue(t.Context(), want.ID)
	if err != nil {
		t.Fatalf("Venue %s: %v", want.ID, err)
	}
	if d := diffVenue(got, want); d != "" {
		t.Fatalf("Venue %s: %s", want.ID, d)
	}
}

func diffVenue(got, want store.Venue) string {
	g, w := got, want
	g.Created, g.Updated, w.Created, w.Updated = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	switch {
	case g != w:
		return fmt.Sprintf("\n got  %+v\n want %+v", got, want)
	case !got.Created.Equal(want.Created) || !got.Updated.Equal(want.Updated):
		return fmt.Sprintf("created %v updated %v, want %v %v", got.Created, got.Updated, want.Created, want.Updated)
	}
	return ""
}

// Ensure that every field of a venue is kept exactly (text, coordinates
// to the last bit, times to the microsecond), also across a reopen, and
// that a venue of only an id and a name reads back with zero values.
func testRegistryFields(t *testing.T, h *harness) {
	s := h.store("fields")
	var want []store.Venue
	for n := range 3 {
		v := registeredVenue(t, n)
		if err := s.AddVenue(h.ctx, v); err != nil {
			t.Fatalf("AddVenue %s: %v", v.ID, err)
		}
		want = append(want, v)
		checkVenue(t, s, v)
	}
	bare := store.Venue{ID: "v-bare", Name: "from before the registry", Created: base}
	if err := s.AddVenue(h.ctx, bare); err != nil {
		t.Fatal(err)
	}
	checkVenue(t, s, bare)
	want = append(want, bare)
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	s = h.store("fields")
	got, err := s.Venues(h.ctx)
	if err != nil || len(got) != len(want) {
		t.Fatalf("Venues after reopen: %d venues, %v; want %d", len(got), err, len(want))
	}
	for i := range want {
		if d := diffVenue(got[i], want[i]); d != "" {
			t.Fatalf("Venues[%d] after reopen: %s", i, d)
		}
	}
	if got[3].Status != registry.StatusNone || got[3].BusinessNumber != "" || !got[3].Updated.IsZero() {
		t.Fatalf("bare venue = %+v", got[3])
	}
	if math.Float64bits(got[0].Location.Lat) != math.Float64bits(want[0].Location.Lat) {
		t.Fatalf("latitude %v, want %v", got[0].Location.Lat, want[0].Location.Lat)
	}
}

// Ensure that a business number is registered once, that a refused
// registration leaves nothing behind (neither the venue nor its number),
// and that any number of venues may have none.
func testRegistryBusinessNumberUnique(t *testing.T, h *harness) {
	s := h.store("unique")
	v1 := registeredVenue(t, 1)
	if err := s.AddVenue(h.ctx, v1); err != nil {
		t.Fatal(err)
	}
	dup := registeredVenue(t, 2)
	dup.BusinessNumber = v1.BusinessNumber
	err := s.AddVenue(h.ctx, dup)
	if !errors.Is(err, store.ErrExists) || !strings.Contains(err.Error(), "business_number "+v1.BusinessNumber) || !strings.Contains(err.Error(), "v-1") {
		t.Fatalf("AddVenue with v-1's business number: %v, want ErrExists naming business_number and v-1", err)
	}
	if _, err := s.Venue(h.ctx, dup.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused venue was stored: %v", err)
	}

	// A taken id with a new number: refused, and the number stays free.
	again := registeredVenue(t, 3)
	again.ID = v1.ID
	err = s.AddVenue(h.ctx, again)
	if !errors.Is(err, store.ErrExists) || !strings.Contains(err.Error(), "id") || strings.Contains(err.Error(), "business_number") {
		t.Fatalf("AddVenue with v-1's id: %v, want ErrExists naming the id", err)
	}
	checkVenue(t, s, v1)
	v3 := registeredVenue(t, 3)
	if err := s.AddVenue(h.ctx, v3); err != nil {
		t.Fatalf("AddVenue with the number of a refused registration: %v", err)
	}
	for _, id := range []string{"v-none-1", "v-none-2"} {
		if err := s.AddVenue(h.ctx, store.Venue{ID: id, Name: id, Created: base}); err != nil {
			t.Fatalf("AddVenue %s without a business number: %v", id, err)
		}
	}
	vs, err := s.Venues(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range vs {
		ids = append(ids, v.ID)
	}
	if !slices.Equal(ids, []string{"v-1", "v-3", "v-none-1", "v-none-2"}) {
		t.Fatalf("Venues = %v", ids)
	}
}

// Ensure that of venues registered at once with one business number,
// exactly one is stored.
func testRegistryBusinessNumberConcurrent(t *testing.T, h *harness) {
	s := h.store("concurrent")
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := registeredVenue(t, 10+i)
			v.BusinessNumber = businessNumber(t, 99)
			errs[i] = s.AddVenue(h.ctx, v)
		}()
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrExists):
			t.Errorf("AddVenue %d: %v", i, err)
		}
	}
	vs, err := s.Venues(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ok != 1 || len(vs) != 1 {
		t.Fatalf("%d registrations succeeded and %d venues are stored, want 1 and 1", ok, len(vs))
	}
}

// Ensure that statuses move applied → approved → suspended → approved and
// applied → rejected → applied, that each move replaces the reason, that a
// refused move changes nothing, and that asking for the current status
// changes nothing either, the reason included.
func testRegistryStatus(t *testing.T, h *harness) {
	s := h.store("status")
	v := registeredVenue(t, 1)
	if err := s.AddVenue(h.ctx, v); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateVenueStatus(h.ctx, "v-none", registry.StatusApproved, "", base); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateVenueStatus of an unknown venue: %v, want ErrNotFound", err)
	}
	refuse := func(to registry.Status) {
		t.Helper()
		_, err := s.UpdateVenueStatus(h.ctx, v.ID, to, "refused", base.Add(time.Hour))
		var te *registry.TransitionError
		if !errors.As(err, &te) || te.From != v.Status || te.To != to {
			t.Fatalf("UpdateVenueStatus %s → %q: %v, want a TransitionError", v.Status, to, err)
		}
		checkVenue(t, s, v)
	}
	move := func(to registry.Status, reason string, at time.Time) {
		t.Helper()
		got, err := s.UpdateVenueStatus(h.ctx, v.ID, to, reason, at)
		if err != nil {
			t.Fatalf("UpdateVenueStatus %s → %s: %v", v.Status, to, err)
		}
		if to != v.Status {
			v.Updated, v.StatusReason = at, reason
		}
		v.Status = to
		if d := diffVenue(got, v); d != "" {
			t.Fatalf("UpdateVenueStatus returned %s", d)
		}
		checkVenue(t, s, v)
	}
	refuse(registry.StatusSuspended)
	refuse("bogus")
	refuse(registry.StatusNone)
	move(registry.StatusApplied, "", base.Add(time.Minute)) // no change, Updated kept
	move(registry.StatusRejected, "사업자등록번호가 상호와 맞지 않습니다", base.Add(90*time.Minute))
	refuse(registry.StatusApproved)
	refuse(registry.StatusSuspended)
	move(registry.StatusRejected, "another reason", base.Add(100*time.Minute)) // no change, reason kept
	move(registry.StatusApplied, "", base.Add(110*time.Minute))                // resubmitted: reason cleared
	move(registry.StatusApproved, "", base.Add(2*time.Hour+123456*time.Microsecond))
	refuse(registry.StatusApplied)
	refuse(registry.StatusRejected)
	move(registry.StatusApproved, "", base.Add(3*time.Hour)) // no change
	move(registry.StatusSuspended, "complaints", base.Add(4*time.Hour))
	refuse(registry.StatusApplied)
	move(registry.StatusApproved, "", base.Add(5*time.Hour))
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	checkVenue(t, h.store("status"), v)
}

// Ensure that a venue stored before the registry (no status) can be
// approved, and nothing else.
func testRegistryStatusLegacy(t *testing.T, h *harness) {
	s := h.store("legacy")
	v := store.Venue{ID: "v-old", Name: "old", Created: base}
	if err := s.AddVenue(h.ctx, v); err != nil {
		t.Fatal(err)
	}
	var te *registry.TransitionError
	if _, err := s.UpdateVenueStatus(h.ctx, v.ID, registry.StatusSuspended, "", base); !errors.As(err, &te) {
		t.Fatalf("suspend a venue without status: %v, want a TransitionError", err)
	}
	got, err := s.UpdateVenueStatus(h.ctx, v.ID, registry.StatusApproved, "", base.Add(time.Hour))
	if err != nil || got.Status != registry.StatusApproved || !got.Updated.Equal(base.Add(time.Hour)) {
		t.Fatalf("approve a venue without status: %+v, %v", got, err)
	}
}

// Ensure that a venue's debounce is stored as set (positive, negative for
// off, 0 for the kiosks' default), moves Updated only when it changes, and
// survives a reopen; an unknown venue is ErrNotFound.
func testRegistryDebounce(t *testing.T, h *harness) {
	s := h.store("debounce")
	v := registeredVenue(t, 1)
	v.DebounceSeconds = 300
	if err := s.AddVenue(h.ctx, v); err != nil {
		t.Fatal(err)
	}
	checkVenue(t, s, v)
	if _, err := s.UpdateVenueDebounce(h.ctx, "v-none", 60, base); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateVenueDebounce of an unknown venue: %v, want ErrNotFound", err)
	}
	for i, seconds := range []int{300, 90, -1, -1, 0, 86400} {
		at := base.Add(time.Duration(i+1)*time.Hour + 654321*time.Microsecond)
		got, err := s.UpdateVenueDebounce(h.ctx, v.ID, seconds, at)
		if err != nil {
			t.Fatalf("UpdateVenueDebounce %d: %v", seconds, err)
		}
		if seconds != v.DebounceSeconds {
			v.Updated = at
		}
		v.DebounceSeconds = seconds
		if d := diffVenue(got, v); d != "" {
			t.Fatalf("UpdateVenueDebounce %d returned %s", seconds, d)
		}
		checkVenue(t, s, v)
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	checkVenue(t, h.store("debounce"), v)
}
