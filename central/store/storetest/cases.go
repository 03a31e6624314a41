package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
)

// Ensure that cases get increasing ids, are listed newest first while
// open and no longer once closed (a second close keeps the first), that
// their traces come back in the order added with their params byte for
// byte, that a trace of an unknown case or with a taken id is refused,
// and that it all survives reopening.
func testCases(t *testing.T, h *harness) {
	s := h.store("a")
	if list, err := s.OpenCases(h.ctx); err != nil || len(list) != 0 {
		t.Fatalf("OpenCases of an empty store = %v, %v", list, err)
	}
	if _, err := s.Case(h.ctx, 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Case(1) of an empty store: err = %v, want ErrNotFound", err)
	}
	var ids []uint64
	for i, ref := range []string{"2026-보건-0001", "2026-보건-0002", "2026-보건-0003"} {
		id, err := s.AddCase(h.ctx, store.Case{Ref: ref, Opener: "kim", Opened: base.Add(time.Duration(i) * time.Minute), Closed: base})
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) > 0 && id <= ids[len(ids)-1] {
			t.Fatalf("case id %d after %d: want increasing", id, ids[len(ids)-1])
		}
		ids = append(ids, id)
	}
	c, err := s.Case(h.ctx, ids[1])
	if want := (store.Case{ID: ids[1], Ref: "2026-보건-0002", Opener: "kim", Opened: base.Add(time.Minute)}); err != nil || c != want {
		t.Fatalf("Case = %+v, %v, want %+v (Closed of AddCase ignored)", c, err, want)
	}
	closeAt := base.Add(time.Hour)
	for i, at := range []time.Time{closeAt, closeAt.Add(time.Hour)} {
		c, err := s.CloseCase(h.ctx, ids[0], []string{"lee", "park"}[i], at)
		if err != nil || !c.Closed.Equal(closeAt) || c.Closer != "lee" {
			t.Fatalf("close %d: %+v, %v: want closed at %v by lee", i, c, err, closeAt)
		}
	}
	if _, err := s.CloseCase(h.ctx, 999, "lee", closeAt); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CloseCase of an unknown case: err = %v, want ErrNotFound", err)
	}

	traces := []store.CaseTrace{
		{ID: "t-02", Case: ids[1], Who: "kim", Created: base, Params: []byte(`{"degree":2}`)},
		{ID: "t-01", Case: ids[1], Who: "lee", Created: base.Add(time.Minute), Params: []byte{0, 1, 2, 0xff}},
		{ID: "t-03", Case: ids[2], Who: "kim", Created: base, Params: []byte(`{}`)},
	}
	for _, tr := range traces {
		if err := s.AddCaseTrace(h.ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	refused := []struct {
		name string
		tr   store.CaseTrace
		want error
	}{
		{"unknown case", store.CaseTrace{ID: "t-09", Case: 999, Created: base}, store.ErrNotFound},
		{"taken id", store.CaseTrace{ID: "t-01", Case: ids[2], Created: base}, store.ErrExists},
	}
	for _, tt := range refused {
		if err := s.AddCaseTrace(h.ctx, tt.tr); !errors.Is(err, tt.want) {
			t.Errorf("AddCaseTrace, %s: err = %v, want %v", tt.name, err, tt.want)
		}
	}

	check := func(s store.Store, when string) {
		t.Helper()
		list, err := s.OpenCases(h.ctx)
		if err != nil || len(list) != 2 || list[0].ID != ids[2] || list[1].ID != ids[1] {
			t.Fatalf("%s: OpenCases = %+v, %v: want cases %d, %d", when, list, err, ids[2], ids[1])
		}
		closed, err := s.Case(h.ctx, ids[0])
		if err != nil || !closed.Closed.Equal(closeAt) || closed.Closer != "lee" {
			t.Errorf("%s: closed case = %+v, %v", when, closed, err)
		}
		got, err := s.CaseTraces(h.ctx, ids[1])
		if err != nil || len(got) != 2 {
			t.Fatalf("%s: CaseTraces = %+v, %v: want 2", when, got, err)
		}
		for i, want := range traces[:2] {
			g := got[i]
			if g.ID != want.ID || g.Case != want.Case || g.Who != want.Who || !g.Created.Equal(want.Created) || !bytes.Equal(g.Params, want.Params) {
				t.Errorf("%s: trace %d = %+v, want %+v", when, i, g, want)
			}
		}
		if none, err := s.CaseTraces(h.ctx, ids[0]); err != nil || none == nil || len(none) != 0 {
			t.Errorf("%s: CaseTraces of a case without any = %#v, %v: want an empty slice", when, none, err)
		}
	}
	check(s, "before reopening")
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	s = h.store("a")
	check(s, "after reopening")

	// Retention: traces created before the cut go (they name their case's
	// pseudonym); later ones and the cases stay.
	n, err := s.DropCaseTraces(h.ctx, traces[1].Created)
	if err != nil || n != 2 { // t-02 and t-03, both at base
		t.Fatalf("DropCaseTraces = %d, %v: want 2", n, err)
	}
	left, err := s.CaseTraces(h.ctx, ids[1])
	if err != nil || len(left) != 1 || left[0].ID != traces[1].ID {
		t.Fatalf("after DropCaseTraces: %+v, %v: want only %s", left, err, traces[1].ID)
	}
	if n, err := s.DropCaseTraces(h.ctx, traces[1].Created); err != nil || n != 0 {
		t.Errorf("DropCaseTraces again = %d, %v: want 0", n, err)
	}
	if _, err := s.Case(h.ctx, ids[1]); err != nil {
		t.Errorf("the case went with its traces: %v", err)
	}
	if rest, err := s.CaseTraces(h.ctx, ids[2]); err != nil || len(rest) != 0 {
		t.Errorf("case %d kept %+v, %v", ids[2], rest, err)
	}
}
