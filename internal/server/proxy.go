package server

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// fromProxy believes X-Forwarded-For and X-Forwarded-Proto only from a
// trusted proxy: the client is the right-most address in X-Forwarded-For
// that is not itself a trusted proxy, and becomes r.RemoteAddr (which the
// log line and the login rate limit use). From anyone else both headers are
// ignored.
func (s *Server) fromProxy(next http.Handler) http.Handler {
	if len(s.cfg.TrustedProxies) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, ok := addrOf(r.RemoteAddr)
		if !ok || !s.trusted(peer) {
			next.ServeHTTP(w, r)
			return
		}
		client := peer
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // a malformed hop: trust nothing before it
			}
			client = a.Unmap()
			if !s.trusted(client) {
				break
			}
		}
		r2 := r.Clone(r.Context())
		r2.RemoteAddr = net.JoinHostPort(client.String(), "0")
		switch p := strings.ToLower(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto"))); p {
		case "http", "https":
			r2 = r2.WithContext(context.WithValue(r2.Context(), schemeKey, p))
		}
		next.ServeHTTP(w, r2)
	})
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func addrOf(remote string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// Scheme is the scheme the client used: https when served over TLS or when
// a trusted proxy says so in X-Forwarded-Proto.
func Scheme(r *http.Request) string {
	if p, ok := r.Context().Value(schemeKey).(string); ok {
		return p
	}
	if r.TLS != nil {
		return "https"
	}
	return "http"
}
