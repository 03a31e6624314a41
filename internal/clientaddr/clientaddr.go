// Package clientaddr finds the client address of an HTTP request, also
// behind trusted reverse proxies (a TLS terminator, the load balancer in
// front of several centrals), and the key a rate limit counts it by.
//
// Without trusted proxies the client is the connection's remote address
// and X-Forwarded-For is ignored: anyone can write it. Behind a proxy that
// is trusted, the client is the rightmost address of X-Forwarded-For that
// is not a trusted proxy — the one the last trusted proxy saw; addresses
// to its left were written by the client and are not believed.
package clientaddr

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver finds client addresses behind its trusted proxies. A nil
// *Resolver trusts no proxy.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a Resolver trusting the proxies given as addresses
// ("192.0.2.7", "2001:db8::1") or networks ("10.0.0.0/8", "fd00::/8").
func New(proxies []string) (*Resolver, error) {
	r := new(Resolver)
	for _, p := range proxies {
		p = strings.TrimSpace(p)
		if pfx, err := netip.ParsePrefix(p); err == nil {
			r.trusted = append(r.trusted, pfx.Masked())
			continue
		}
		a, err := netip.ParseAddr(p)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: want an IP address or a network such as 10.0.0.0/8", p)
		}
		a = a.Unmap()
		r.trusted = append(r.trusted, netip.PrefixFrom(a, a.BitLen()))
	}
	return r, nil
}

func (r *Resolver) trusts(a netip.Addr) bool {
	if r == nil {
		return false
	}
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// remote returns the connection's address, or false when RemoteAddr is
// not one (a test's or a listener's own form).
func remote(req *http.Request) (netip.Addr, bool) {
	host := req.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// client returns the client's address, or false with RemoteAddr unparsed.
func (r *Resolver) client(req *http.Request) (netip.Addr, bool) {
	a, ok := remote(req)
	if !ok || !r.trusts(a) {
		return a, ok
	}
	var hops []string
	for _, v := range req.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return a, true // a hop a trusted proxy wrote is unreadable: stop at it
		}
		h = h.Unmap()
		if !r.trusts(h) {
			return h, true
		}
		a = h
	}
	return a, true
}

// Addr returns the client's address as text, for logs.
func (r *Resolver) Addr(req *http.Request) string {
	a, ok := r.client(req)
	if !ok {
		return req.RemoteAddr
	}
	return a.String()
}

// Key returns what a rate limit counts the client by: an IPv4 address
// whole, an IPv6 address by its /64, the network one subscriber gets.
func (r *Resolver) Key(req *http.Request) string {
	a, ok := r.client(req)
	switch {
	case !ok:
		return req.RemoteAddr
	case a.Is6():
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
