package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
)

// testApps holds the visitor app's conformance tests (store.Apps).
func testApps(t *testing.T, h *harness) {
	for _, tt := range []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"Codes", testAppCodes},
		{"Codes_Concurrent", testAppCodesConcurrent},
		{"Accounts_Sessions", testAppSessions},
		{"Notices", testAppNotices},
		{"Receipts", testAppReceipts},
		{"DeletePerson", testAppDeletePerson},
		{"Drop", testAppDrop},
		{"Limits", testAppLimits},
		{"Limits_Concurrent", testAppLimitsConcurrent},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, &harness{t: t, open: h.open, ctx: h.ctx})
		})
	}
}

func hash32(s string) [32]byte { return sha256.Sum256([]byte("storetest " + s)) }

func appCode(phone, code string, sent time.Time) store.AppCode {
	return store.AppCode{Phone: hash32(phone), Hash: hash32(phone + code), Consent: "2026-12-1", Lang: "ko", Sent: sent, Expires: sent.Add(3 * time.Minute)}
}

func wrongLeft(err error) int {
	var w *store.CodeWrongError
	if errors.As(err, &w) {
		return w.Left
	}
	return -1
}

// Ensure that a code is tried against its hash: a wrong one counts a try
// and says how many are left, the last deleting it; a right one is
// returned with every field and deleted only when consumed; an expired,
// used or unknown code is ErrCodeExpired; a new code replaces the
// number's earlier one, tries too; a code survives reopening.
func testAppCodes(t *testing.T, h *harness) {
	s := h.store("a")
	ctx := h.ctx
	a := appCode("010-1", "123456", base)
	if _, err := s.TryAppCode(ctx, a.Phone, a.Hash, base, 5, true); !errors.Is(err, store.ErrCodeExpired) {
		t.Fatalf("no code: %v, want ErrCodeExpired", err)
	}
	if err := s.PutAppCode(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TryAppCode(ctx, a.Phone, hash32("wrong"), base, 5, true); wrongLeft(err) != 4 {
		t.Fatalf("wrong code: %v, want 4 tries left", err)
	}
	got, err := s.TryAppCode(ctx, a.Phone, a.Hash, base.Add(time.Minute), 5, false)
	want := a
	want.Tries = 1
	if err != nil || got.Phone != want.Phone || got.Hash != want.Hash || got.Consent != want.Consent || got.Lang != want.Lang ||
		!got.Sent.Equal(want.Sent) || !got.Expires.Equal(want.Expires) || got.Tries != 1 {
		t.Fatalf("right code, not consumed = %+v, %v; want %+v", got, err, want)
	}
	// Kept: reopen, consume it, and it is gone.
	s.close()
	s = h.store("a")
	if _, err := s.TryAppCode(ctx, a.Phone, a.Hash, base.Add(2*time.Minute), 5, true); err != nil {
		t.Fatalf("right code after reopening: %v", err)
	}
	if _, err := s.TryAppCode(ctx, a.Phone, a.Hash, base.Add(2*time.Minute), 5, true); !errors.Is(err, store.ErrCodeExpired) {
		t.Fatalf("a used code: %v, want ErrCodeExpired", err)
	}

	// Expiry: at Expires it is gone.
	b := appCode("010-2", "654321", base)
	if err := s.PutAppCode(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TryAppCode(ctx, b.Phone, b.Hash, b.Expires, 5, true); !errors.Is(err, store.ErrCodeExpired) {
		t.Fatalf("an expired code: %v, want ErrCodeExpired", err)
	}
	if _, err := s.TryAppCode(ctx, b.Phone, b.Hash, base, 5, true); !errors.Is(err, store.ErrCodeExpired) {
		t.Fatalf("an expired code, tried again before its time: %v, want ErrCodeExpired (deleted)", err)
	}

	// Five wrong tries end it; a new code replaces it with its tries.
	c := appCode("010-3", "111111", base)
	if err := s.PutAppCode(ctx, c); err != nil {
		t.Fatal(err)
	}
	for left := 4; left >= 0; left-- {
		if _, err := s.TryAppCode(ctx, c.Phone, hash32("wrong"), base, 5, true); wrongLeft(err) != left {
			t.Fatalf("wrong try: %v, want %d left", err, left)
		}
	}
	if _, err := s.TryAppCode(ctx, c.Phone, c.Hash, base, 5, true); !errors.Is(err, store.ErrCodeExpired) {
		t.Fatalf("right code after 5 wrong: %v, want ErrCodeExpired", err)
	}
	if err := s.PutAppCode(ctx, c); err != nil {
		t.Fatal(err)
	}
	s.TryAppCode(ctx, c.Phone, hash32("wrong"), base, 5, true)
	c2 := appCode("010-3", "222222", base.Add(time.Minute))
	if err := s.PutAppCode(ctx, c2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TryAppCode(ctx, c.Phone, c.Hash, base.Add(time.Minute), 5, true); wrongLeft(err) != 4 {
		t.Fatalf("the replaced code: %v, want wrong with 4 left (tries reset)", err)
	}
	if _, err := s.TryAppCode(ctx, c2.Phone, c2.Hash, base.Add(time.Minute), 5, true); err != nil {
		t.Fatalf("the new code: %v", err)
	}
}

// Ensure that concurrent tries of one right code, consuming it, succeed
// once.
func testAppCodesConcurrent(t *testing.T, h *harness) {
	s := h.store("a")
	c := appCode("010-9", "999999", base)
	if err := s.PutAppCode(h.ctx, c); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, expired := 0, 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.TryAppCode(h.ctx, c.Phone, c.Hash, base, 5, true)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, store.ErrCodeExpired):
				expired++
			default:
				t.Errorf("TryAppCode: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok != 1 || expired != 7 {
		t.Fatalf("%d tries succeeded, %d found it gone; want 1 and 7", ok, expired)
	}
}

// Ensure that accounts are stored and replaced whole, and that sessions
// are found until they expire, refused twice, renewed by a touch and
// ended per person but one.
func testAppSessions(t *testing.T, h *harness) {
	s := h.store("a")
	ctx := h.ctx
	if _, err := s.AppAccount(ctx, "p-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no account: %v, want ErrNotFound", err)
	}
	acct := store.AppAccount{Person: "p-1", Consent: "2026-12-1", ConsentAt: base, Serial: 3, PassIssued: base.Add(time.Second), Revoked: true, Created: base}
	if err := s.PutAppAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	acct.Revoked, acct.Serial = false, 4
	if err := s.PutAppAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	got, err := s.AppAccount(ctx, "p-1")
	if err != nil || got.Person != acct.Person || got.Consent != acct.Consent || !got.ConsentAt.Equal(acct.ConsentAt) || got.Serial != 4 ||
		!got.PassIssued.Equal(acct.PassIssued) || got.Revoked || !got.Created.Equal(acct.Created) {
		t.Fatalf("AppAccount = %+v, %v; want %+v", got, err, acct)
	}

	sess := func(n int, person string) store.AppSession {
		return store.AppSession{Hash: hash32(fmt.Sprint("session ", n)), Person: person, Created: base, LastUsed: base, Expires: base.Add(time.Hour)}
	}
	for i, p := range []string{"p-1", "p-1", "p-1", "p-2"} {
		if err := s.AddAppSession(ctx, sess(i, p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddAppSession(ctx, sess(0, "p-2")); !errors.Is(err, store.ErrExists) {
		t.Fatalf("a session's hash again: %v, want ErrExists", err)
	}
	got0, err := s.AppSession(ctx, sess(0, "").Hash, base.Add(time.Hour-time.Microsecond))
	if w := sess(0, "p-1"); err != nil || got0.Person != "p-1" || got0.Hash != w.Hash || !got0.Created.Equal(base) || !got0.LastUsed.Equal(base) || !got0.Expires.Equal(w.Expires) {
		t.Fatalf("AppSession = %+v, %v", got0, err)
	}
	if _, err := s.AppSession(ctx, sess(0, "").Hash, base.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an expired session: %v, want ErrNotFound", err)
	}
	if err := s.TouchAppSession(ctx, sess(0, "").Hash, base.Add(30*time.Minute), base.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.AppSession(ctx, sess(0, "").Hash, base.Add(2*time.Hour)); err != nil || !got.LastUsed.Equal(base.Add(30*time.Minute)) {
		t.Fatalf("a touched session = %+v, %v", got, err)
	}
	if err := s.TouchAppSession(ctx, hash32("none"), base, base); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("touch of no session: %v, want ErrNotFound", err)
	}
	if n, err := s.EndAppSessions(ctx, "p-1", sess(1, "").Hash); err != nil || n != 2 {
		t.Fatalf("EndAppSessions = %d, %v; want 2", n, err)
	}
	for i, want := range []bool{false, true, false, true} {
		_, err := s.AppSession(ctx, sess(i, "").Hash, base)
		if (err == nil) != want {
			t.Errorf("session %d after ending p-1's but 1: %v, want found %v", i, err, want)
		}
	}
}

// Ensure that notices are listed per person, newest first, each whole,
// and a person's notice id is refused twice.
func testAppNotices(t *testing.T, h *harness) {
	s := h.store("a")
	ctx := h.ctx
	if ns, err := s.AppNotices(ctx, "p-1"); err != nil || len(ns) != 0 {
		t.Fatalf("no notices = %v, %v", ns, err)
	}
	notice := func(id, person string, sent time.Time) store.AppNotice {
		return store.AppNotice{ID: id, Person: person, Sent: sent, Day: "2026-11-24", VenueName: "카페 '한라' \"1\"",
			Text: "2026년 11월 24일 카페 한라를 방문하신 분은…", TextEn: "If you visited…"}
	}
	add := []store.AppNotice{
		notice("n-b", "p-1", base),
		notice("n-a", "p-1", base),
		notice("n-c", "p-1", base.Add(time.Hour)),
		notice("n-a", "p-2", base),
	}
	for _, n := range add {
		if err := s.AddAppNotice(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddAppNotice(ctx, add[0]); !errors.Is(err, store.ErrExists) {
		t.Fatalf("a notice again: %v, want ErrExists", err)
	}
	ns, err := s.AppNotices(ctx, "p-1")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, n := range ns {
		ids = append(ids, n.ID)
	}
	if !slices.Equal(ids, []string{"n-c", "n-b", "n-a"}) {
		t.Fatalf("notices %v, want newest first, then by id descending", ids)
	}
	w := add[2]
	if g := ns[0]; g.Person != "p-1" || !g.Sent.Equal(w.Sent) || g.Day != w.Day || g.VenueName != w.VenueName || g.Text != w.Text || g.TextEn != w.TextEn {
		t.Fatalf("notice %+v, want %+v", g, w)
	}
}

// Ensure that receipts are found by client key and by check-in, whole,
// and a client key is refused twice.
func testAppReceipts(t *testing.T, h *harness) {
	s := h.store("a")
	ctx := h.ctx
	r := store.AppReceipt{Client: hash32("client 1"), Device: "app-v-1", Seq: 1<<40 + 7, Venue: "v-1", How: "app-poster",
		Flags: []string{"suspect", "late-offline"}, Time: base, Created: base.Add(time.Minute)}
	if _, err := s.AppReceipt(ctx, r.Client); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no receipt: %v, want ErrNotFound", err)
	}
	if err := s.PutAppReceipt(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAppReceipt(ctx, r); !errors.Is(err, store.ErrExists) {
		t.Fatalf("a receipt again: %v, want ErrExists", err)
	}
	check := func(what string, got store.AppReceipt, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		g, w := got, r
		g.Time, g.Created, w.Time, w.Created = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) || !got.Time.Equal(r.Time) || !got.Created.Equal(r.Created) {
			t.Fatalf("%s = %+v, want %+v", what, got, r)
		}
	}
	got, err := s.AppReceipt(ctx, r.Client)
	check("AppReceipt", got, err)
	got, err = s.AppReceiptAt(ctx, r.Device, r.Seq)
	check("AppReceiptAt", got, err)
	if _, err := s.AppReceiptAt(ctx, r.Device, r.Seq+1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AppReceiptAt of another check-in: %v, want ErrNotFound", err)
	}
}

// Ensure that DeleteAppPerson destroys the identity as DestroyPersons
// does and drops the person's app account, sessions and notices, and no
// one else's.
func testAppDeletePerson(t *testing.T, h *harness) {
	s := h.store("a")
	ctx := h.ctx
	p1, p2 := newPerson(1), newPerson(2)
	addPerson(t, s, p1)
	addPerson(t, s, p2)
	for i, p := range []store.Person{p1, p2} {
		if err := s.PutAppAccount(ctx, store.AppAccount{Person: p.ID, Consent: "c", Serial: 1, Created: base}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddAppSession(ctx, store.AppSession{Hash: hash32(p.ID), Person: p.ID, Created: base, LastUsed: base, Expires: base.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddAppNotice(ctx, store.AppNotice{ID: fmt.Sprint("n-", i), Person: p.ID, Sent: base}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteAppPerson(ctx, "p-none", base); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete an unknown person: %v, want ErrNotFound", err)
	}
	if err := s.DeleteAppPerson(ctx, p1.ID, base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	checkGone(t, s, p1, store.ErrDestroyed)
	if _, err := s.AppAccount(ctx, p1.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the account: %v, want ErrNotFound", err)
	}
	if _, err := s.AppSession(ctx, hash32(p1.ID), base); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the session: %v, want ErrNotFound", err)
	}
	if ns, err := s.AppNotices(ctx, p1.ID); err != nil || len(ns) != 0 {
		t.Errorf("the notices: %v, %v; want none", ns, err)
	}
	if err := s.DeleteAppPerson(ctx, p1.ID, base); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete again: %v, want ErrNotFound (destroyed)", err)
	}
	var ee *store.ExistsError
	if err := s.AddPerson(ctx, p1); !errors.As(err, &ee) || ee.Field != "id" {
		t.Errorf("the destroyed id again: %v, want taken", err)
	}
	// The other person is whole.
	lookUpPerson(t, s, p2)
	if _, err := s.AppAccount(ctx, p2.ID); err != nil {
		t.Error(err)
	}
	if _, err := s.AppSession(ctx, hash32(p2.ID), base); err != nil {
		t.Error(err)
	}
	if ns, _ := s.AppNotices(ctx, p2.ID); len(ns) != 1 {
		t.Errorf("the other person's notices: %d, want 1", len(ns))
	}
}

// Ensure that DropApp drops expired codes and sessions, notices sent and
// receipts of check-ins before keepFrom, and nothing else.
func testAppDrop(t *testing.T, h *harness) {
	s := h.store("a")
	ctx := h.ctx
	now, keepFrom := base.Add(24*time.Hour), base.Add(time.Hour)
	for i, c := range []store.AppCode{appCode("1", "1", base), appCode("2", "2", now.Add(-time.Minute))} {
		if err := s.PutAppCode(ctx, c); err != nil {
			t.Fatal(i, err)
		}
	}
	for i, exp := range []time.Time{now, now.Add(time.Second)} {
		if err := s.AddAppSession(ctx, store.AppSession{Hash: hash32(fmt.Sprint("s", i)), Person: "p", Created: base, LastUsed: base, Expires: exp}); err != nil {
			t.Fatal(err)
		}
	}
	for i, sent := range []time.Time{keepFrom.Add(-time.Microsecond), keepFrom} {
		if err := s.AddAppNotice(ctx, store.AppNotice{ID: fmt.Sprint("n", i), Person: "p", Sent: sent}); err != nil {
			t.Fatal(err)
		}
	}
	for i, at := range []time.Time{keepFrom.Add(-time.Second), keepFrom} {
		if err := s.PutAppReceipt(ctx, store.AppReceipt{Client: hash32(fmt.Sprint("r", i)), Device: "app-v", Seq: uint64(i + 1), Venue: "v", How: "exit", Time: at, Created: now}); err != nil {
			t.Fatal(err)
		}
	}
	for i, at := range []time.Time{now.Add(-2 * time.Minute), now.Add(-time.Minute)} { // full again at now (dropped), now+1m
		if ok, err := s.TakeAppLimit(ctx, hash32(fmt.Sprint("l", i)), at, 2*time.Minute, 1); err != nil || !ok {
			t.Fatal(ok, err)
		}
	}
	n, err := s.DropApp(ctx, now, keepFrom)
	if err != nil || n != 5 {
		t.Fatalf("DropApp = %d, %v; want 5", n, err)
	}
	if ok, err := s.TakeAppLimit(ctx, hash32("l1"), now, 2*time.Minute, 1); err != nil || ok {
		t.Errorf("the limit not yet full again: %v, %v; want kept and refused", ok, err)
	}
	if _, err := s.TryAppCode(ctx, hash32("1"), hash32("11"), base, 5, false); !errors.Is(err, store.ErrCodeExpired) {
		t.Errorf("the expired code: %v", err)
	}
	if _, err := s.TryAppCode(ctx, hash32("2"), hash32("22"), now.Add(-time.Minute), 5, false); err != nil {
		t.Errorf("the live code: %v", err)
	}
	if _, err := s.AppSession(ctx, hash32("s1"), base); err != nil {
		t.Errorf("the live session: %v", err)
	}
	if _, err := s.AppSession(ctx, hash32("s0"), base); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the expired session: %v, want dropped", err)
	}
	if ns, _ := s.AppNotices(ctx, "p"); len(ns) != 1 || ns[0].ID != "n1" {
		t.Errorf("notices %+v, want n1 only", ns)
	}
	if _, err := s.AppReceiptAt(ctx, "app-v", 1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the old receipt by check-in: %v, want dropped", err)
	}
	if _, err := s.AppReceipt(ctx, hash32("r0")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the old receipt: %v, want dropped", err)
	}
	if _, err := s.AppReceiptAt(ctx, "app-v", 2); err != nil {
		t.Errorf("the new receipt: %v", err)
	}
	if n, err := s.DropApp(ctx, now, keepFrom); err != nil || n != 0 {
		t.Errorf("DropApp again = %d, %v; want 0", n, err)
	}
}

// Ensure that a limit's bucket holds burst events and gains one an every,
// that a refused event takes nothing, that keys are apart, and that the
// buckets survive reopening.
func testAppLimits(t *testing.T, h *harness) {
	s := h.store("a")
	ctx := h.ctx
	const every, burst = 10 * time.Minute, 3
	take := func(key string, at time.Duration) bool {
		t.Helper()
		ok, err := s.TakeAppLimit(ctx, hash32(key), base.Add(at), every, burst)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for i := range burst {
		if !take("n", time.Duration(i)*time.Second) {
			t.Fatalf("event %d of the burst refused", i+1)
		}
	}
	if take("n", 3*time.Second) {
		t.Fatal("an event past the burst allowed")
	}
	if !take("m", 3*time.Second) {
		t.Fatal("another key's first event refused")
	}
	// Refused events take nothing: after one every, exactly one more.
	for i := range 5 {
		if take("n", every-time.Duration(5-i)*time.Second) {
			t.Fatalf("event %d before the refill allowed", i)
		}
	}
	if !take("n", every) {
		t.Fatal("the event one every later refused")
	}
	if take("n", every+time.Second) {
		t.Fatal("a second event one every later allowed")
	}
	s.close()
	s = h.store("a")
	if take("n", every+2*time.Second) {
		t.Fatal("after reopening, the bucket was full again")
	}
	// A bucket idle for burst everies is full: burst events again.
	for i := range burst {
		if !take("n", 5*every+time.Duration(i)*time.Second) {
			t.Fatalf("event %d after the bucket filled refused", i+1)
		}
	}
	if take("n", 5*every+time.Minute) {
		t.Fatal("an event past the refilled burst allowed")
	}
	// A burst of 1: one event an every.
	if ok, err := s.TakeAppLimit(ctx, hash32("r"), base, 30*time.Second, 1); err != nil || !ok {
		t.Fatalf("first resend: %v, %v", ok, err)
	}
	if ok, err := s.TakeAppLimit(ctx, hash32("r"), base.Add(29*time.Second), 30*time.Second, 1); err != nil || ok {
		t.Fatalf("resend after 29 s: %v, %v; want refused", ok, err)
	}
	if ok, err := s.TakeAppLimit(ctx, hash32("r"), base.Add(30*time.Second), 30*time.Second, 1); err != nil || !ok {
		t.Fatalf("resend after 30 s: %v, %v; want allowed", ok, err)
	}
}

// Ensure that concurrent takes of one bucket allow exactly its burst.
func testAppLimitsConcurrent(t *testing.T, h *harness) {
	s := h.store("a")
	const burst, callers = 5, 20
	var wg sync.WaitGroup
	allowed := make(chan bool, callers)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.TakeAppLimit(h.ctx, hash32("c"), base, time.Hour, burst)
			if err != nil {
				t.Error(err)
			}
			allowed <- ok
		}()
	}
	wg.Wait()
	close(allowed)
	n := 0
	for ok := range allowed {
		if ok {
			n++
		}
	}
	if n != burst {
		t.Errorf("%d of %d concurrent takes allowed, want the burst %d", n, callers, burst)
	}
}
