package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/anshim/anshim/central/store"
)

// Ensure that the latest status report of each device is kept, listed in
// device order with its bytes as put, that an older report (handled out
// of order) does not replace a later one while one received at the same
// time or later does, and that the reports survive reopening.
func testDeviceStatuses(t *testing.T, h *harness) {
	s := h.store("a")
	if list, err := s.DeviceStatuses(h.ctx); err != nil || len(list) != 0 {
		t.Fatalf("DeviceStatuses of an empty store = %v, %v", list, err)
	}
	report := func(n int) []byte { return []byte(`{"v":1,"backlog":` + string(rune('0'+n)) + `}`) }
	steps := []struct {
		name   string
		put    store.DeviceStatus
		device string // whose report to check after
		want   store.DeviceStatus
	}{
		{"first of k-2", store.DeviceStatus{Device: "k-2", Received: base, Report: report(1)}, "k-2",
			store.DeviceStatus{Device: "k-2", Received: base, Report: report(1)}},
		{"first of k-1", store.DeviceStatus{Device: "k-1", Received: base.Add(time.Minute), Report: report(2)}, "k-1",
			store.DeviceStatus{Device: "k-1", Received: base.Add(time.Minute), Report: report(2)}},
		{"later replaces", store.DeviceStatus{Device: "k-2", Received: base.Add(5 * time.Minute), Report: report(3)}, "k-2",
			store.DeviceStatus{Device: "k-2", Received: base.Add(5 * time.Minute), Report: report(3)}},
		{"older is ignored", store.DeviceStatus{Device: "k-2", Received: base.Add(time.Minute), Report: report(4)}, "k-2",
			store.DeviceStatus{Device: "k-2", Received: base.Add(5 * time.Minute), Report: report(3)}},
		{"same time replaces", store.DeviceStatus{Device: "k-2", Received: base.Add(5 * time.Minute), Report: report(5)}, "k-2",
			store.DeviceStatus{Device: "k-2", Received: base.Add(5 * time.Minute), Report: report(5)}},
	}
	find := func(s store.Store, device string) store.DeviceStatus {
		t.Helper()
		list, err := s.DeviceStatuses(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range list {
			if d.Device == device {
				return d
			}
		}
		return store.DeviceStatus{}
	}
	same := func(a, b store.DeviceStatus) bool {
		return a.Device == b.Device && a.Received.Equal(b.Received) && bytes.Equal(a.Report, b.Report)
	}
	for _, st := range steps {
		if err := s.PutDeviceStatus(h.ctx, st.put); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := find(s, st.device); !same(got, st.want) {
			t.Fatalf("%s: %s's status = %+v (%s), want %+v (%s)", st.name, st.device, got, got.Report, st.want, st.want.Report)
		}
	}
	if err := s.PutDeviceStatus(h.ctx, store.DeviceStatus{Received: base}); err == nil {
		t.Error("PutDeviceStatus without a device: no error")
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	s = h.store("a")
	list, err := s.DeviceStatuses(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.DeviceStatus{steps[1].want, steps[4].want}
	if len(list) != len(want) {
		t.Fatalf("after reopening: %d statuses, want %d", len(list), len(want))
	}
	for i := range want {
		if !same(list[i], want[i]) {
			t.Errorf("after reopening, status %d = %+v, want %+v", i, list[i], want[i])
		}
	}
}
