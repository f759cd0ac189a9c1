package ldapsync

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/core/config"
	"github.com/rosterhq/roster/ldapsync/slapdtest"
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
