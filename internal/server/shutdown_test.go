package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"
)

// On shutdown a request within the grace period finishes; one still running
// when the grace is over sees its context cancelled, answers, and Serve
// returns nil (a clean stop, exit 0).
func TestShutdownGraceThenCancel(t *testing.T) {
	for _, tt := range []struct {
		name       string
		work       time.Duration // how long the handler works unless cancelled
		wantCancel bool
	}{
		{"finishes within the grace", 100 * time.Millisecond, false},
		{"cancelled after the grace", time.Hour, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Config{Addr: "127.0.0.1:0", ShutdownTimeout: 300 * time.Millisecond}, func(context.Context) error { return nil }, slog.New(slog.DiscardHandler))
			started := make(chan struct{})
			cancelled := make(chan bool, 1)
			s.Router().HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
				close(started)
				select {
				case <-time.After(tt.work):
					cancelled <- false
					w.WriteHeader(http.StatusOK)
				case <-r.Context().Done():
					cancelled <- true
					w.WriteHeader(http.StatusServiceUnavailable)
				}
			})
			ln, err := s.Listen()
			if err != nil {
				t.Fatal(err)
			}
			ctx, stop := context.WithCancel(context.Background())
			served := make(chan error, 1)
			go func() { served <- s.Serve(ctx, ln) }()
			got := make(chan int, 1)
			go func() {
				res, err := http.Get("http://" + ln.Addr().String() + "/work")
				if err != nil {
					got <- 0
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				got <- res.StatusCode
			}()
			<-started
			stop()
			select {
			case err := <-served:
				if err != nil {
					t.Fatalf("Serve: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Serve did not return")
			}
			if c := <-cancelled; c != tt.wantCancel {
				t.Fatalf("cancelled %v, want %v", c, tt.wantCancel)
			}
			want := http.StatusOK
			if tt.wantCancel {
				want = http.StatusServiceUnavailable
			}
			if code := <-got; code != want {
				t.Fatalf("client got %d, want %d", code, want)
			}
		})
	}
}
