package server

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The request log never carries an invitation token.
func TestRequestLogRedactsInviteToken(t *testing.T) {
	var buf bytes.Buffer
	s := New(Config{}, func(context.Context) error { return nil }, slog.New(slog.NewTextHandler(&buf, nil)))
	s.Router().PathPrefix("/invite/").HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})
	s.Router().PathPrefix("/reset/").HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	const token = "rinv_SECRETSECRETSECRETSECRETSECRETSECRETSECR"
	for _, p := range []string{"/invite/" + token, "/reset/rrst_SECRET", "/healthz"} {
		res, err := http.Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	out := buf.String()
	if strings.Contains(out, "SECRET") || !strings.Contains(out, "path=/invite/[redacted]") || !strings.Contains(out, "path=/reset/[redacted]") || !strings.Contains(out, "path=/healthz") {
		t.Fatalf("request log:\n%s", out)
	}
}
