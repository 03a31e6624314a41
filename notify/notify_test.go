package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var day = time.Date(2026, 11, 25, 16, 30, 0, 0, time.UTC) // 26 Nov 01:30 KST

// gateway is a real HTTP server that answers the statuses in order (the
// last one from then on) and keeps every request.
type gateway struct {
	mu       sync.Mutex
	statuses []int
	bodies   []string
	auths    []string
	calls    atomic.Int32
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(g.calls.Add(1))
	b, _ := io.ReadAll(r.Body)
	g.mu.Lock()
	g.bodies = append(g.bodies, string(b))
	g.auths = append(g.auths, r.Header.Get("Authorization"))
	st := g.statuses[min(n, len(g.statuses))-1]
	g.mu.Unlock()
	w.WriteHeader(st)
	if st == 200 {
		io.WriteString(w, `{"id":"gw-42"}`)
	}
}

// Ensure that the webhook retries failures that may pass (5xx, 429) with
// backoff and gives up on those that cannot (4xx) or after MaxAttempts,
// reporting every attempt, sending the auth header and the body.
func TestWebhook_Send(t *testing.T) {
	for _, tc := range []struct {
		name     string
		statuses []int
		attempts int // tries recorded
		ok       bool
	}{
		{"fails twice then succeeds", []int{503, 500, 200}, 3, true},
		{"always fails", []int{503}, 4, false},
		{"rate limited then succeeds", []int{429, 200}, 2, true},
		{"refused", []int{400}, 1, false},
		{"first try", []int{200}, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &gateway{statuses: tc.statuses}
			ts := httptest.NewServer(g)
			defer ts.Close()
			var got []Attempt
			w := &Webhook{URL: ts.URL, Auth: "Bearer gw-secret", MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond,
				OnAttempt: func(a Attempt) { got = append(got, a) }}
			m, err := Exposure("+821012345678", "카페 한라", day, "n-1")
			if err != nil {
				t.Fatal(err)
			}
			r, err := w.Send(context.Background(), m)
			if tc.ok != (err == nil) {
				t.Fatalf("Send = %+v, %v; want ok=%v", r, err, tc.ok)
			}
			if !tc.ok && !errors.Is(err, ErrGaveUp) {
				t.Errorf("error %v, want ErrGaveUp", err)
			}
			if err != nil && strings.Contains(err.Error(), "+8210") {
				t.Errorf("error names the recipient: %v", err)
			}
			if len(got) != tc.attempts || int(g.calls.Load()) != tc.attempts {
				t.Fatalf("%d attempts recorded, %d requests; want %d", len(got), g.calls.Load(), tc.attempts)
			}
			for i, a := range got {
				if a.N != i+1 || a.Status != g.statuses[min(i+1, len(g.statuses))-1] || (a.Err == "") != (a.Status == 200) {
					t.Errorf("attempt %d = %+v", i+1, a)
				}
			}
			if tc.ok && (r.Attempts != tc.attempts || r.ID != "gw-42") {
				t.Errorf("receipt %+v, want %d attempts and the gateway's id", r, tc.attempts)
			}
			var body struct{ To, Text, Ref string }
			if err := json.Unmarshal([]byte(g.bodies[0]), &body); err != nil {
				t.Fatalf("body %q: %v", g.bodies[0], err)
			}
			if body.To != m.To || body.Text != m.Body() || body.Ref != "n-1" || g.auths[0] != "Bearer gw-secret" {
				t.Errorf("request body %+v, auth %q", body, g.auths[0])
			}
		})
	}
}

// Ensure that a custom body template quotes values as JSON, and that a
// canceled context stops the retries.
func TestWebhook_TemplateAndCancel(t *testing.T) {
	g := &gateway{statuses: []int{503}}
	ts := httptest.NewServer(g)
	defer ts.Close()
	tmpl, err := ParseBody(`{"msisdn":{{json .To}},"message":{{json .Text}}}`)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &Webhook{URL: ts.URL, Body: tmpl, MaxAttempts: 100, BaseDelay: time.Millisecond,
		OnAttempt: func(a Attempt) {
			if a.N == 2 {
				cancel()
			}
		}}
	_, err = w.Send(ctx, Message{To: "+821012345678", Text: `say "hi"`})
	if !errors.Is(err, context.Canceled) || g.calls.Load() != 2 {
		t.Fatalf("Send = %v after %d requests; want context.Canceled after 2", err, g.calls.Load())
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(g.bodies[0]), &body); err != nil || body["message"] != `say "hi"` || body["msisdn"] != "+821012345678" {
		t.Fatalf("body %q: %v", g.bodies[0], err)
	}
	if _, err := ParseBody(`{{json .To`); err == nil {
		t.Error("ParseBody of a broken template: no error")
	}
}

// Ensure that the file sink appends one JSON line per message to a file
// of mode 0600, read back by ReadSink in order.
func TestFileSink(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify.jsonl")
	if recs, err := ReadSink(path); err != nil || len(recs) != 0 {
		t.Fatalf("ReadSink of no file = %v, %v", recs, err)
	}
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	s := &FileSink{Path: path, Now: func() time.Time { return now }}
	var ids []string
	for _, to := range []string{"+821011112222", "+821033334444"} {
		m, _ := Exposure(to, "Cafe Halla", day, "n-"+to[len(to)-4:])
		r, err := s.Send(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		if r.Attempts != 1 || !r.Sent.Equal(now) || r.ID == "" {
			t.Errorf("receipt %+v", r)
		}
		ids = append(ids, r.ID)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("sink file mode %v, %v; want 0600", fi.Mode(), err)
	}
	recs, err := ReadSink(path)
	if err != nil || len(recs) != 2 {
		t.Fatalf("ReadSink = %+v, %v", recs, err)
	}
	if recs[0].To != "+821011112222" || recs[1].To != "+821033334444" || recs[0].ID != ids[0] || recs[1].Ref != "n-4444" {
		t.Errorf("records %+v", recs)
	}
	if !strings.Contains(recs[0].Text, "2026년 11월 26일 Cafe Halla을(를) 방문하신 분은") || !strings.Contains(recs[0].Fallback, "26 Nov 2026") {
		t.Errorf("record text %q / %q", recs[0].Text, recs[0].Fallback)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Send(ctx, Message{To: "+821055556666"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Send with a canceled context: %v", err)
	}
}

// Ensure that the exposure message gives the KST date, the venue with its
// right particle, and the English fallback.
func TestExposure(t *testing.T) {
	for _, tc := range []struct {
		venue, ko, en string
	}{
		{"카페 한라", "2026년 11월 26일 카페 한라를 방문하신 분은 가까운 선별진료소에서 검사를 받으시기 바랍니다",
			"If you visited 카페 한라 on 26 Nov 2026, please get tested at your nearest screening clinic."},
		{"제주식당", "2026년 11월 26일 제주식당을 방문하신 분은 가까운 선별진료소에서 검사를 받으시기 바랍니다", ""},
		{"Cafe Halla", "2026년 11월 26일 Cafe Halla을(를) 방문하신 분은 가까운 선별진료소에서 검사를 받으시기 바랍니다",
			"If you visited Cafe Halla on 26 Nov 2026, please get tested at your nearest screening clinic."},
	} {
		m, err := Exposure("+821012345678", tc.venue, day, "")
		if err != nil {
			t.Fatal(err)
		}
		if m.Text != tc.ko || (tc.en != "" && m.Fallback != tc.en) {
			t.Errorf("Exposure(%q) = %q / %q", tc.venue, m.Text, m.Fallback)
		}
		if m.Body() != m.Text+"\n"+m.Fallback {
			t.Errorf("Body() = %q", m.Body())
		}
	}
}

// BenchmarkFileSink_Send measures one message appended and synced.
func BenchmarkFileSink_Send(b *testing.B) {
	s := &FileSink{Path: filepath.Join(b.TempDir(), "notify.jsonl")}
	m, _ := Exposure("+821012345678", "카페 한라", day, "n-1")
	for b.Loop() {
		if _, err := s.Send(context.Background(), m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWebhook_Send measures one message to a local gateway that
// accepts it at once.
func BenchmarkWebhook_Send(b *testing.B) {
	ts := httptest.NewServer(&gateway{statuses: []int{200}})
	defer ts.Close()
	w := &Webhook{URL: ts.URL, Auth: "Bearer x"}
	m, _ := Exposure("+821012345678", "카페 한라", day, "n-1")
	for b.Loop() {
		if _, err := w.Send(context.Background(), m); err != nil {
			b.Fatal(err)
		}
	}
}
