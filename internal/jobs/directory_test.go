package jobs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
)

// memDirectory is a directory kept in memory: a second kind of
// core.DirectorySource beside LDAP, which implements only the port. The
// scheduler and the core's run need nothing more of a directory.
type memDirectory struct {
	set core.SourceSettings

	mu    sync.Mutex
	users []core.SyncEntry
	reads int
	fail  error
	gate  chan struct{} // when set, Read waits on it
}

func (d *memDirectory) Settings() core.SourceSettings { return d.set }

func (d *memDirectory) Read(ctx context.Context, req core.DirectoryRead) (*core.DirectoryReadResult, error) {
	d.mu.Lock()
	gate := d.gate
	d.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reads++
	if d.fail != nil {
		return nil, d.fail
	}
	wm := fmt.Sprintf("%06d", d.reads)
	if !req.Full {
		// Nothing changed since the watermark: an incremental read is empty.
		return &core.DirectoryReadResult{Watermark: wm}, nil
	}
	users := append([]core.SyncEntry(nil), d.users...)
	return &core.DirectoryReadResult{Snapshot: core.DirectorySnapshot{Full: true, Users: users}, Watermark: wm, EntriesRead: len(users)}, nil
}

func newDirectoryEnv(t *testing.T, users int, interval time.Duration) (*core.Service, *memDirectory) {
	t.Helper()
	ctx := context.Background()
	svc, err := core.NewService(core.Config{}, core.Deps{Store: migratedSQLite(t)})
	if err != nil {
		t.Fatal(err)
	}
	org, err := svc.CreateOrg(ctx, core.CLIActor(), "acme", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	d := &memDirectory{set: core.SourceSettings{
		SyncSource:    core.SyncSource{Name: "corp", OrgID: org.ID, DefaultRole: core.RoleMember},
		Interval:      interval,
		FullSyncEvery: 24 * time.Hour,
		MaxRemovals:   core.MaxRemovals{N: 50, Percent: true},
	}}
	for i := range users {
		d.users = append(d.users, core.SyncEntry{ExternalID: fmt.Sprintf("ext-%d", i), Username: fmt.Sprintf("user%d", i),
			Email: fmt.Sprintf("user%d@example.com", i), FirstName: "User", LastName: fmt.Sprint(i)})
	}
	return svc, d
}

// TestDirectoryScheduler: each source runs at start and then every
// interval until the context ends, full first and incremental after; every
// run is recorded.
func TestDirectoryScheduler(t *testing.T) {
	svc, d := newDirectoryEnv(t, 3, 100*time.Millisecond)
	sc := NewDirectoryScheduler([]core.DirectorySource{d}, svc.RunDirectory, nil)
	var mu sync.Mutex
	var reports []*core.DirectoryReport
	sc.OnRun = func(r *core.DirectoryReport, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			reports = append(reports, r)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	sc.Start(ctx)
	waitUntil(t, 5*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(reports) >= 3 }, "three runs")
	cancel()
	sc.Wait()
	mu.Lock()
	defer mu.Unlock()
	if reports[0].Mode != core.SyncFull || reports[0].Created != 3 || reports[1].Mode != core.SyncIncremental {
		t.Errorf("runs: %+v / %+v", reports[0], reports[1])
	}
	runs, err := svc.SyncRuns(context.Background(), "corp", 10)
	if err != nil || len(runs) < 3 {
		t.Errorf("recorded runs: %d %v", len(runs), err)
	}
}

// TestDirectorySchedulerGate: while the gate is closed (another replica
// holds the source's schedule) the scheduler does not run the source; once
// it opens, the source runs at once, not an interval later.
func TestDirectorySchedulerGate(t *testing.T) {
	svc, d := newDirectoryEnv(t, 2, time.Hour)
	sc := NewDirectoryScheduler([]core.DirectorySource{d}, svc.RunDirectory, nil)
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
	runs := make(chan *core.DirectoryReport, 4)
	sc.OnRun = func(r *core.DirectoryReport, err error) { runs <- r }
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

// TestDirectoryRunOneAtATime: a run started by one door while another runs
// the same source in this process (the API's sync-now beside the
// scheduler) is refused with core.ErrRunInProgress and changes nothing;
// another process (another lease owner on the same store) is refused by
// the run lease; once the first run ends, the next one runs.
func TestDirectoryRunOneAtATime(t *testing.T) {
	st := migratedSQLite(t)
	svc, err := core.NewService(core.Config{}, core.Deps{Store: st, LeaseOwner: "host-a/1/aaaa"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := core.NewService(core.Config{}, core.Deps{Store: st, LeaseOwner: "host-b/1/bbbb"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	org, err := svc.CreateOrg(ctx, core.CLIActor(), "acme", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	d := &memDirectory{set: core.SourceSettings{SyncSource: core.SyncSource{Name: "corp", OrgID: org.ID}, FullSyncEvery: time.Hour},
		users: []core.SyncEntry{{ExternalID: "e1", Username: "ann", Email: "ann@example.com", FirstName: "Ann", LastName: "A"}},
		gate:  make(chan struct{})}
	first := make(chan error, 1)
	go func() {
		_, err := svc.RunDirectory(ctx, d, core.DirectoryRunOptions{})
		first <- err
	}()
	waitUntil(t, 5*time.Second, func() bool {
		h, _ := st.LeaseHolder(ctx, "directory-run:corp")
		return h == "host-a/1/aaaa"
	}, "the first run holds the lease")
	if rep, err := svc.RunDirectory(ctx, d, core.DirectoryRunOptions{}); !errors.Is(err, core.ErrRunInProgress) || rep.Status != core.RunFailed {
		t.Fatalf("a second run in the same process: %+v, %v", rep, err)
	}
	if _, err := other.RunDirectory(ctx, d, core.DirectoryRunOptions{}); !errors.Is(err, core.ErrLeaseHeld) {
		t.Fatalf("a run of another process while the lease is held: %v", err)
	}
	close(d.gate)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if h, _ := st.LeaseHolder(ctx, "directory-run:corp"); h != "" {
		t.Errorf("the lease is still held by %q after the run", h)
	}
	rep, err := other.RunDirectory(ctx, d, core.DirectoryRunOptions{})
	if err != nil || rep.Status != core.RunOK || rep.Mode != core.SyncIncremental {
		t.Fatalf("the next run: %+v, %v", rep, err)
	}
	if d.reads != 2 {
		t.Errorf("the refused runs read the directory: %d reads", d.reads)
	}
}

// TestDirectoryRunKeepsWatermarkOnlyOnSuccess: a failed read records a
// failed run and leaves the watermark where it was, so the next run reads
// the same changes again.
func TestDirectoryRunKeepsWatermarkOnlyOnSuccess(t *testing.T) {
	svc, d := newDirectoryEnv(t, 2, time.Hour)
	ctx := t.Context()
	if _, err := svc.RunDirectory(ctx, d, core.DirectoryRunOptions{}); err != nil {
		t.Fatal(err)
	}
	st0, _ := svc.SyncState(ctx, d.set.OrgID, "corp")
	d.fail = errors.New("directory down")
	rep, err := svc.RunDirectory(ctx, d, core.DirectoryRunOptions{})
	if err == nil || rep.Status != core.RunFailed {
		t.Fatalf("failed read: %+v, %v", rep, err)
	}
	st1, _ := svc.SyncState(ctx, d.set.OrgID, "corp")
	if st1.Watermark != st0.Watermark || st0.Watermark == "" {
		t.Errorf("watermark moved on a failed run: %q -> %q", st0.Watermark, st1.Watermark)
	}
	runs, _ := svc.SyncRuns(ctx, "corp", 10)
	if len(runs) != 2 || runs[0].Status != core.RunFailed || runs[0].Message == "" {
		t.Errorf("runs: %+v", runs)
	}
}

// A run lease left by a killed process of this host is taken over at once;
// one held by a live process (this test's own pid, another owner name) or
// by another host waits for its expiry.
func TestDirectoryRunLeaseOfADeadProcessIsTakenOver(t *testing.T) {
	st := migratedSQLite(t)
	svc, err := core.NewService(core.Config{}, core.Deps{Store: st, LeaseOwnerGone: OwnerGone})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	org, err := svc.CreateOrg(ctx, core.CLIActor(), "acme", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	d := &memDirectory{set: core.SourceSettings{SyncSource: core.SyncSource{Name: "corp", OrgID: org.ID}, FullSyncEvery: time.Hour}}
	host, _ := os.Hostname()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		owner string
		taken bool
	}{
		{fmt.Sprintf("%s/%d/dead", host, dead.Process.Pid), true},
		{fmt.Sprintf("%s/%d/other", host, os.Getpid()), false},
		{fmt.Sprintf("elsewhere/%d/x", dead.Process.Pid), false},
	} {
		if ok, err := st.TryLease(ctx, "directory-run:corp", tc.owner, time.Now(), time.Hour); err != nil || !ok {
			t.Fatalf("plant the lease of %s: %v %v", tc.owner, ok, err)
		}
		_, err := svc.RunDirectory(ctx, d, core.DirectoryRunOptions{})
		if tc.taken && err != nil {
			t.Errorf("lease of %s: %v, want it taken over", tc.owner, err)
		}
		if !tc.taken && !errors.Is(err, core.ErrLeaseHeld) {
			t.Errorf("lease of %s: %v, want ErrLeaseHeld", tc.owner, err)
		}
		_ = st.ReleaseLease(ctx, "directory-run:corp", tc.owner)
	}
}

// A changed query (another fingerprint) makes the next run full even with
// a fresh watermark, and the run record says why; the same query again is
// incremental.
func TestDirectoryRunFullWhenTheQueryChanged(t *testing.T) {
	svc, d := newDirectoryEnv(t, 2, time.Hour)
	ctx := t.Context()
	d.set.Fingerprint = "query-1"
	for i, want := range []struct {
		fp     string
		mode   core.SyncMode
		reason string
	}{
		{"query-1", core.SyncFull, core.RunReasonFirstRun},
		{"query-1", core.SyncIncremental, ""},
		{"query-2", core.SyncFull, core.RunReasonQueryChanged},
		{"query-2", core.SyncIncremental, ""},
	} {
		d.set.Fingerprint = want.fp
		rep, err := svc.RunDirectory(ctx, d, core.DirectoryRunOptions{})
		if err != nil || rep.Mode != want.mode || rep.Reason != want.reason {
			t.Fatalf("run %d: %s/%q, want %s/%q (%v)", i, rep.Mode, rep.Reason, want.mode, want.reason, err)
		}
	}
	runs, _ := svc.SyncRuns(ctx, "corp", 10)
	if len(runs) != 4 || runs[1].Mode != core.SyncFull || runs[1].Reason != core.RunReasonQueryChanged {
		t.Errorf("recorded runs: %+v", runs)
	}
}
