package ldapsync

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/config"
	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

// TestScheduler: each source runs at start and then every interval until
// the context ends; every run is recorded.
func TestScheduler(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.People(3))
	e := newEnv(t)
	src := e.source(sourceConfig(srv, func(c *config.LDAPSource) { c.Interval = 100 * time.Millisecond }))
	sc := NewScheduler([]*Source{src}, nil)
	var mu sync.Mutex
	var reports []*Report
	sc.OnRun = func(r *Report, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			reports = append(reports, r)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	sc.Start(ctx)
	for {
		mu.Lock()
		n := len(reports)
		mu.Unlock()
		if n >= 3 || ctx.Err() != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	sc.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(reports) < 3 {
		t.Fatalf("%d runs in 5s at a 100ms interval", len(reports))
	}
	if reports[0].Mode != core.SyncFull || reports[0].Created != 3 || reports[1].Mode != core.SyncIncremental {
		t.Errorf("runs: %+v / %+v", reports[0], reports[1])
	}
	runs, err := e.svc.SyncRuns(e.ctx, "corp", 10)
	if err != nil || len(runs) < 3 {
		t.Errorf("recorded runs: %d %v", len(runs), err)
	}
}

// TestSchedulerGate: while the gate is closed (another replica holds the
// source's lease) the scheduler does not run the source; once it opens, the
// source runs at once, not an interval later.
func TestSchedulerGate(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.People(2))
	e := newEnv(t)
	src := e.source(sourceConfig(srv, func(c *config.LDAPSource) { c.Interval = time.Hour }))
	sc := NewScheduler([]*Source{src}, nil)
	var mu sync.Mutex
	open := false
	asked := 0
	sc.Gate = func(name string) bool {
		mu.Lock()
		defer mu.Unlock()
		if name != "corp" {
			t.Errorf("gate asked for %q", name)
		}
		asked++
		return open
	}
	sc.Poll = 50 * time.Millisecond
	runs := make(chan *Report, 4)
	sc.OnRun = func(r *Report, err error) { runs <- r }
	ctx, cancel := context.WithCancel(t.Context())
	defer func() { cancel(); sc.Wait() }()
	sc.Start(ctx)
	time.Sleep(400 * time.Millisecond)
	if len(runs) != 0 {
		t.Fatal("the source ran while the gate was closed")
	}
	mu.Lock()
	if asked < 3 {
		t.Errorf("gate asked %d times in 400ms at a 50ms poll", asked)
	}
	open = true
	mu.Unlock()
	select {
	case r := <-runs:
		if r.Status != core.RunOK || r.Created != 2 {
			t.Fatalf("run after the gate opened: %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no run within 5s of the gate opening")
	}
	select {
	case r := <-runs:
		t.Fatalf("a second run with a one-hour interval: %+v", r)
	case <-time.After(300 * time.Millisecond):
	}
}
