package jobs

import (
	"context"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/testkit/pgtest"
)

// dying wraps a Leaser; once killed, every call fails and nothing is
// released: a replica that died without a goodbye (kill -9).
type dying struct {
	core.Leaser
	dead atomic.Bool
}

func (d *dying) TryLease(ctx context.Context, name, owner string, now time.Time, ttl time.Duration) (bool, error) {
	if d.dead.Load() {
		<-ctx.Done()
		return false, ctx.Err()
	}
	return d.Leaser.TryLease(ctx, name, owner, now, ttl)
}

func (d *dying) ReleaseLease(ctx context.Context, name, owner string) error {
	if d.dead.Load() {
		return nil
	}
	return d.Leaser.ReleaseLease(ctx, name, owner)
}

// Two replicas: exactly one runs the job; when it dies the other takes over
// within the lease period; when it stops cleanly the other takes over at once.
func TestRunLeasedFailover(t *testing.T) {
	pgtest.ForEachDriver(t, func(t *testing.T, driver, dsn string) {
		ctx := context.Background()
		open := func() *store.Store {
			st, err := store.Open(ctx, store.Options{Driver: driver, DSN: dsn}, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			return st
		}
		const ttl = 3 * time.Second
		var runs [3]atomic.Int64
		type replica struct {
			l      *dying
			el     *Elector
			cancel context.CancelFunc
			done   chan struct{}
		}
		start := func(i int) *replica {
			r := &replica{l: &dying{Leaser: open()}, done: make(chan struct{})}
			r.el = NewElector(r.l, string(rune('A'+i)), ttl, nil)
			rctx, cancel := context.WithCancel(ctx)
			r.cancel = cancel
			go func() {
				defer close(r.done)
				RunLeased(rctx, slog.New(slog.DiscardHandler), r.el, Job{Name: "dormancy", Every: 200 * time.Millisecond, Run: func(context.Context) (int64, error) {
					runs[i].Add(1)
					return 0, nil
				}})
				r.el.Wait()
			}()
			return r
		}
		a := start(0)
		waitUntil(t, 2*time.Second, func() bool { return runs[0].Load() > 0 }, "A to run the job")
		b := start(1)
		time.Sleep(ttl)
		if runs[1].Load() != 0 {
			t.Fatalf("B ran the job %d times while A held the lease", runs[1].Load())
		}
		// A dies without releasing: B takes over within about the lease period.
		a.l.dead.Store(true)
		killed := time.Now()
		aRuns := runs[0].Load()
		waitUntil(t, ttl+ttl/2, func() bool { return runs[1].Load() > 0 }, "B to take over after A died")
		took := time.Since(killed)
		t.Logf("takeover after %s (lease %s)", took.Round(10*time.Millisecond), ttl)
		// A stops acting as the holder before B may start.
		time.Sleep(300 * time.Millisecond)
		if n := runs[0].Load(); n > aRuns+int64((ttl-ttl/10)/(200*time.Millisecond))+1 {
			t.Errorf("A kept running after its lease ran out: %d runs, %d at death", n, aRuns)
		}
		a.cancel()
		<-a.done
		// B stops cleanly: C takes over at once (B released its lease).
		c := start(2)
		time.Sleep(200 * time.Millisecond)
		b.cancel()
		<-b.done
		stopped := time.Now()
		waitUntil(t, ttl, func() bool { return runs[2].Load() > 0 }, "C to take over after B stopped")
		if d := time.Since(stopped); d > ttl/6+time.Second {
			t.Errorf("takeover after a clean stop took %s", d)
		}
		c.cancel()
		<-c.done
	})
}

func waitUntil(t *testing.T, d time.Duration, ok func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// migratedSQLite is a fresh migrated SQLite store, closed when the test ends.
func migratedSQLite(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Driver: "sqlite", DSN: t.TempDir() + "/r.db"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// A lone process (SQLite, one replica) holds its leases from the start:
// its jobs run at once, not a poll later.
func TestRunLeasedLoneProcessRunsAtOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	el := NewElector(migratedSQLite(t), "solo", 30*time.Second, nil)
	ran := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		RunLeased(ctx, slog.New(slog.DiscardHandler), el, Job{Name: "dormancy", Every: time.Hour, Run: func(context.Context) (int64, error) {
			select {
			case ran <- struct{}{}:
			default:
			}
			return 0, nil
		}})
		el.Wait()
	}()
	select {
	case <-ran:
	case <-time.After(2 * time.Second): // the first poll would come after 5s
		t.Fatal("the job did not run at start")
	}
	cancel()
	<-done
}
