package clientaddr

import (
	"net/http"
	"net/netip"
	"testing"
)

// Ensure the client address and key of requests directly and behind
// trusted proxies: X-Forwarded-For believed only from a trusted proxy and
// only up to the first untrusted hop from the right, IPv6 counted by /64,
// IPv4-mapped addresses as IPv4.
func TestResolver(t *testing.T) {
	r, err := New([]string{"10.0.0.0/8", "192.0.2.7", "fd00::/8", " 2001:db8::1 "})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, remote string
		xff          []string
		res          *Resolver
		addr, key    string
	}{
		{"direct", "203.0.113.5:4711", nil, r, "203.0.113.5", "203.0.113.5"},
		{"direct, header ignored", "203.0.113.5:4711", []string{"198.51.100.1"}, r, "203.0.113.5", "203.0.113.5"},
		{"no proxies trusted", "10.1.2.3:4711", []string{"198.51.100.1"}, nil, "10.1.2.3", "10.1.2.3"},
		{"behind a proxy", "10.1.2.3:4711", []string{"198.51.100.1"}, r, "198.51.100.1", "198.51.100.1"},
		{"client's own forgery left of it", "10.1.2.3:4711", []string{"1.1.1.1, 198.51.100.1"}, r, "198.51.100.1", "198.51.100.1"},
		{"two trusted proxies", "192.0.2.7:4711", []string{"198.51.100.1, 10.9.9.9"}, r, "198.51.100.1", "198.51.100.1"},
		{"two header lines", "10.1.2.3:4711", []string{"1.1.1.1", "198.51.100.2"}, r, "198.51.100.2", "198.51.100.2"},
		{"proxy without header", "10.1.2.3:4711", nil, r, "10.1.2.3", "10.1.2.3"},
		{"unreadable hop", "10.1.2.3:4711", []string{"1.1.1.1, junk"}, r, "10.1.2.3", "10.1.2.3"},
		{"all hops trusted", "10.1.2.3:4711", []string{"10.2.2.2"}, r, "10.2.2.2", "10.2.2.2"},
		{"IPv6 by /64", "[2001:db8:1:2:aaaa::5]:4711", nil, r, "2001:db8:1:2:aaaa::5", "2001:db8:1:2::/64"},
		{"IPv6 behind an IPv6 proxy", "[fd00::1]:443", []string{"2001:db8:5:6::9"}, r, "2001:db8:5:6::9", "2001:db8:5:6::/64"},
		{"IPv4-mapped", "[::ffff:203.0.113.5]:4711", nil, r, "203.0.113.5", "203.0.113.5"},
		{"single trusted IPv6", "[2001:db8::1]:4711", []string{"198.51.100.3"}, r, "198.51.100.3", "198.51.100.3"},
		{"not an address", "pipe", nil, r, "pipe", "pipe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", "/", nil)
			req.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			if got := tt.res.Addr(req); got != tt.addr {
				t.Errorf("Addr = %q, want %q", got, tt.addr)
			}
			if got := tt.res.Key(req); got != tt.key {
				t.Errorf("Key = %q, want %q", got, tt.key)
			}
		})
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", ""} {
		if _, err := New([]string{bad}); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
}

// FuzzResolver checks, for any remote address and X-Forwarded-For, that
// Addr is the remote host or an address from the header only when the
// remote is a trusted proxy, and that Key is Addr or its /64. Seeded
// from TestResolver's cases and testdata/fuzz/FuzzResolver.
func FuzzResolver(f *testing.F) {
	f.Add("10.1.2.3:4711", "1.1.1.1, 198.51.100.1")
	f.Add("203.0.113.5:4711", "198.51.100.1")
	f.Add("[fd00::1]:443", "2001:db8:5:6::9")
	f.Add("10.1.2.3:4711", "1.1.1.1, junk")
	r, err := New([]string{"10.0.0.0/8", "fd00::/8"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, remoteAddr, xff string) {
		req, _ := http.NewRequest("GET", "/", nil)
		req.RemoteAddr = remoteAddr
		req.Header.Set("X-Forwarded-For", xff)
		addr, key := r.Addr(req), r.Key(req)
		rem, ok := remote(req)
		if !ok {
			if addr != remoteAddr || key != remoteAddr {
				t.Fatalf("unparsed remote %q: Addr %q Key %q", remoteAddr, addr, key)
			}
			return
		}
		a, err := netip.ParseAddr(addr)
		if err != nil {
			t.Fatalf("Addr %q is no address", addr)
		}
		if !r.trusts(rem) && a != rem {
			t.Fatalf("remote %v is not trusted, yet Addr = %v", rem, a)
		}
		if a.Is6() {
			if p, _ := a.Prefix(64); key != p.String() {
				t.Fatalf("Key %q, want %v's /64", key, a)
			}
		} else if key != addr {
			t.Fatalf("Key %q, want %q", key, addr)
		}
	})
}
