package ldapsync

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/jobs"
	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

// The directory goes away in the middle of a full read: the run fails,
// nothing is applied (nobody disabled or archived, no history, the
// watermark kept), the run is recorded as failed; once the directory is
// back the next run completes and changes nothing.
func TestLDAPStoppedMidSync(t *testing.T) {
	const n = 1500
	srv := slapdtest.Start(t, slapdtest.People(n))
	e := newEnv(t)
	src := e.source(sourceConfig(srv, func(c *Config) { c.PageSize = 50 }))
	if rep := mustRun(t, src, core.DirectoryRunOptions{}); rep.Created != n {
		t.Fatalf("first run: %+v", rep)
	}
	st0, _ := e.svc.SyncState(e.ctx, e.org.ID, "corp")
	hist0 := e.history()
	var once sync.Once
	stoppedAt := 0
	rep, err := src.run(e.ctx, core.DirectoryRunOptions{Full: true, Progress: func(p core.DirectoryProgress) {
		if p.Phase == "read" && p.EntriesRead >= 300 {
			once.Do(func() { stoppedAt = p.EntriesRead; srv.Stop() })
		}
	}})
	if err == nil || rep.Status != core.RunFailed {
		t.Fatalf("run with the directory stopped at entry %d: %v, %+v", stoppedAt, err, rep)
	}
	if stoppedAt == 0 || rep.EntriesRead >= n {
		t.Fatalf("the directory was not stopped mid-read (at %d, read %d)", stoppedAt, rep.EntriesRead)
	}
	for name, s := range e.statuses() {
		if s != core.StatusActive {
			t.Errorf("%s is %s after an aborted run", name, s)
		}
	}
	if h := e.history(); h != hist0 {
		t.Errorf("history grew by %d entries in an aborted run", h-hist0)
	}
	st1, _ := e.svc.SyncState(e.ctx, e.org.ID, "corp")
	if st1.Watermark != st0.Watermark {
		t.Errorf("watermark moved from %q to %q", st0.Watermark, st1.Watermark)
	}
	runs, err := e.svc.SyncRuns(e.ctx, "corp", 1)
	if err != nil || len(runs) != 1 || runs[0].Status != core.RunFailed || runs[0].Message == "" {
		t.Errorf("last recorded run: %+v %v", runs, err)
	}
	failure := rep.Error
	srv.Restart()
	rep = mustRun(t, src, core.DirectoryRunOptions{Full: true})
	if rep.Created+rep.Updated+rep.Disabled+rep.Archived != 0 || rep.Unchanged != n {
		t.Errorf("run after the outage: %+v", rep)
	}
	t.Logf("stopped at entry %d of %d; run failed with: %s", stoppedAt, n, failure)
}

// A failed scheduled run is retried with backoff (doubling, capped), not
// after the whole interval; once the directory answers, the schedule is
// the interval again.
func TestSchedulerRetriesWithBackoff(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.People(3))
	e := newEnv(t)
	src := e.source(sourceConfig(srv, func(c *Config) { c.Interval = time.Hour; c.Timeout = time.Second }))
	srv.Stop()
	sc := jobs.NewDirectoryScheduler([]core.DirectorySource{src}, e.svc.RunDirectory, nil)
	sc.RetryInitial, sc.RetryMax = 100*time.Millisecond, 400*time.Millisecond
	type run struct {
		at  time.Time
		err error
		rep *core.DirectoryReport
	}
	var mu sync.Mutex
	var runs []run
	sc.OnRun = func(r *core.DirectoryReport, err error) {
		mu.Lock()
		defer mu.Unlock()
		runs = append(runs, run{time.Now(), err, r})
	}
	snapshot := func() []run { mu.Lock(); defer mu.Unlock(); return append([]run(nil), runs...) }
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	sc.Start(ctx)
	waitRuns := func(k int) []run {
		for {
			if rs := snapshot(); len(rs) >= k {
				return rs
			}
			if ctx.Err() != nil {
				t.Fatalf("only %d runs", len(snapshot()))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	rs := waitRuns(5)
	want := []time.Duration{100, 200, 400, 400} // ms: doubling, capped at 400
	for i, w := range want {
		if rs[i].err == nil || rs[i].rep.Status != core.RunFailed {
			t.Fatalf("run %d with the directory down: %v %+v", i, rs[i].err, rs[i].rep)
		}
		gap := rs[i+1].at.Sub(rs[i].at)
		if gap < w*time.Millisecond*9/10 || gap > w*time.Millisecond+800*time.Millisecond {
			t.Errorf("retry %d after %v, want about %dms", i+1, gap, w)
		}
	}
	if len(e.users()) != 0 {
		t.Fatal("users without a directory")
	}
	srv.Restart()
	var ok run
	for ok.rep == nil {
		for _, r := range snapshot() {
			if r.err == nil {
				ok = r
			}
		}
		if ctx.Err() != nil {
			t.Fatal("no successful run after the directory came back")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ok.rep.Created != 3 {
		t.Errorf("run after the outage: %+v", ok.rep)
	}
	n := len(snapshot())
	time.Sleep(600 * time.Millisecond)
	if m := len(snapshot()); m != n {
		t.Errorf("%d more runs after a success: the interval (1h) is not back", m-n)
	}
	cancel()
	sc.Wait()
	for _, s := range e.statuses() {
		if s != core.StatusActive {
			t.Errorf("status %s", s)
		}
	}
}
