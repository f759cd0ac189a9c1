package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

var defaultHeaders = map[string]string{
	"X-Content-Type-Options":  "nosniff",
	"Referrer-Policy":         "no-referrer",
	"X-Frame-Options":         "DENY",
	"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}

// Every response carries the default security headers — 200s, 404s, 405s,
// 503s and panics alike — and a handler can override them.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	ready := errors.New("db down")
	s := New(Config{}, func(context.Context) error { return ready }, slog.New(slog.DiscardHandler))
	s.Router().HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }).Methods("GET")
	s.Router().HandleFunc("/boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	const ownCSP = "default-src 'none'; style-src 'self'"
	s.Router().HandleFunc("/console/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Security-Policy", ownCSP)
		_, _ = io.WriteString(w, "<html>")
	})
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	for _, c := range []struct {
		method, path string
		status       int
	}{{"GET", "/ok", 200}, {"GET", "/healthz", 200}, {"GET", "/readyz", 503}, {"GET", "/nothing", 404}, {"POST", "/ok", 405}, {"GET", "/boom", 500}, {"GET", "/console/", 200}} {
		req, _ := http.NewRequest(c.method, ts.URL+c.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.status {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, res.StatusCode, c.status)
		}
		for k, v := range defaultHeaders {
			want := v
			if k == "Content-Security-Policy" && c.path == "/console/" {
				want = ownCSP
			}
			if got := res.Header.Values(k); len(got) != 1 || got[0] != want {
				t.Errorf("%s %s: %s = %q, want %q", c.method, c.path, k, got, want)
			}
		}
	}
}

// A body declared over the server's bound is refused with 413 before any
// handler reads it; a body of unknown length is cut at the bound.
func TestServerBodyBound(t *testing.T) {
	s := New(Config{MaxBodyBytes: 1000}, func(context.Context) error { return nil }, slog.New(slog.DiscardHandler))
	called := false
	s.Router().HandleFunc("/in", func(w http.ResponseWriter, r *http.Request) {
		called = true
		if _, err := io.ReadAll(r.Body); err != nil {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				w.WriteHeader(http.StatusRequestEntityTooLarge)
				return
			}
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	req := httptest.NewRequest("POST", "/in", strings.NewReader(strings.Repeat("x", 1001)))
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != 413 || called || !strings.Contains(rec.Body.String(), "too_large") {
		t.Fatalf("declared length over the bound: %d %s (handler called: %v)", rec.Code, rec.Body, called)
	}
	req = httptest.NewRequest("POST", "/in", io.MultiReader(strings.NewReader(strings.Repeat("x", 2000))))
	req.ContentLength = -1
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != 413 {
		t.Fatalf("unknown length over the bound: %d", rec.Code)
	}
	req = httptest.NewRequest("POST", "/in", strings.NewReader(strings.Repeat("x", 1000)))
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("a body at the bound: %d", rec.Code)
	}
}
