package server

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTrustedProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name, peer, xff, proto string
		proxies                []netip.Prefix
		wantClient, wantScheme string
	}{
		{"no proxies configured: headers ignored", "127.0.0.1:5000", "203.0.113.9", "https", nil, "127.0.0.1:5000", "http"},
		{"untrusted peer: headers ignored", "198.51.100.7:5000", "203.0.113.9", "https", trusted, "198.51.100.7:5000", "http"},
		{"trusted peer: the client is the last hop", "127.0.0.1:5000", "203.0.113.9", "https", trusted, "203.0.113.9:0", "https"},
		{"a chain of trusted proxies is skipped", "127.0.0.1:5000", "203.0.113.9, 10.1.2.3", "http", trusted, "203.0.113.9:0", "http"},
		{"a spoofed first hop is not believed", "127.0.0.1:5000", "1.1.1.1, 203.0.113.9", "", trusted, "203.0.113.9:0", "http"},
		{"garbage stops the walk", "127.0.0.1:5000", "203.0.113.9, junk", "", trusted, "127.0.0.1:0", "http"},
		{"no X-Forwarded-For: the proxy is the client", "10.0.0.5:5000", "", "https", trusted, "10.0.0.5:0", "https"},
		{"IPv6 client", "127.0.0.1:5000", "2001:db8::1", "", trusted, "[2001:db8::1]:0", "http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Config{TrustedProxies: tt.proxies}, func(context.Context) error { return nil }, slog.New(slog.DiscardHandler))
			var gotClient, gotScheme string
			s.Router().HandleFunc("/x", func(w http.ResponseWriter, r *http.Request) {
				gotClient, gotScheme = r.RemoteAddr, Scheme(r)
			})
			req := httptest.NewRequest("GET", "/x", nil)
			req.RemoteAddr = tt.peer
			if tt.xff != "" {
				req.Header.Set("X-Forwarded-For", tt.xff)
			}
			if tt.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			s.Handler().ServeHTTP(httptest.NewRecorder(), req)
			if gotClient != tt.wantClient || gotScheme != tt.wantScheme {
				t.Fatalf("client %q scheme %q, want %q %q", gotClient, gotScheme, tt.wantClient, tt.wantScheme)
			}
		})
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// Observe sees the route pattern (not the path), the status, and
// "unmatched" for a 404; the log line has the request id and the client.
func TestObserveSeesRoutePatterns(t *testing.T) {
	type obs struct {
		route, method string
		status        int
	}
	var got []obs
	var logs syncBuf
	s := New(Config{Observe: func(route, method string, status int, d time.Duration) {
		got = append(got, obs{route, method, status})
	}}, func(context.Context) error { return nil }, slog.New(slog.NewTextHandler(&logs, nil)))
	s.Router().HandleFunc("/users/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	s.Router().HandleFunc("/quiet", func(w http.ResponseWriter, r *http.Request) {})
	for _, p := range []string{"/users/42", "/users/43", "/nope", "/quiet"} {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		if id := rec.Header().Get("X-Request-Id"); id == "" || !strings.Contains(logs.String(), "request_id="+id) {
			t.Fatalf("%s: request id %q not in the log:\n%s", p, id, logs.String())
		}
	}
	want := []obs{{"/users/{id}", "GET", 204}, {"/users/{id}", "GET", 204}, {"unmatched", "GET", 404}, {"/quiet", "GET", 200}}
	if len(got) != len(want) {
		t.Fatalf("observed %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("observation %d: %v, want %v", i, got[i], want[i])
		}
	}
}
