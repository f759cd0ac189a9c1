package jobs

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

// A lone holder repeats its jobs every Every, keeps retrying a failing one,
// and returns once the context ends.
func TestRunLeasedRepeatsJobsAndStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	el := NewElector(migratedSQLite(t), "solo", 30*time.Second, nil)
	var ok, failing atomic.Int64
	done := make(chan struct{})
	go func() {
		RunLeased(ctx, slog.New(slog.DiscardHandler), el,
			Job{Name: "ok", Every: 5 * time.Millisecond, Run: func(context.Context) (int64, error) { ok.Add(1); return 1, nil }},
			Job{Name: "failing", Every: 5 * time.Millisecond, Run: func(context.Context) (int64, error) { failing.Add(1); return 0, errors.New("x") }},
		)
		close(done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for (ok.Load() < 3 || failing.Load() < 3) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if ok.Load() < 3 || failing.Load() < 3 {
		t.Fatalf("jobs ran %d and %d times; a failing job must keep being retried", ok.Load(), failing.Load())
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
