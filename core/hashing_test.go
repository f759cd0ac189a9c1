package core_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
)

// gatedHasher counts the checks in flight and holds each until released.
type gatedHasher struct {
	core.PasswordHasher
	inFlight, peak atomic.Int32
	hold           chan struct{}
}

func (g *gatedHasher) Verify(hash, pw string) (bool, error) {
	n := g.inFlight.Add(1)
	defer g.inFlight.Add(-1)
	for {
		p := g.peak.Load()
		if n <= p || g.peak.CompareAndSwap(p, n) {
			break
		}
	}
	<-g.hold
	return g.PasswordHasher.Verify(hash, pw)
}

func TestPasswordHashingIsBounded(t *testing.T) {
	e := newEnv(t)
	e.activeUser(t, "known@example.com", core.RoleMember)
	login := func(svc *core.Service, ctx context.Context, user string) error {
		_, err := svc.Login(ctx, core.LoginInput{Org: core.DefaultOrg, Username: user, Password: goodPW, Audience: core.AudienceConsole})
		return err
	}
	for _, tc := range []struct {
		name          string
		limit, logins int
		wait          time.Duration
		cancel        bool // the waiting requests end before a slot frees
		wantBusy      bool
		wantCanceled  bool
		knownUsername bool
	}{
		{name: "queued within the wait", limit: 2, logins: 8, wait: 5 * time.Second, knownUsername: true},
		{name: "busy after the wait", limit: 1, logins: 3, wait: 30 * time.Millisecond, wantBusy: true, knownUsername: true},
		{name: "unknown usernames are bounded too", limit: 1, logins: 3, wait: 30 * time.Millisecond, wantBusy: true},
		{name: "a waiting request ends with its context", limit: 1, logins: 3, wait: 5 * time.Second, cancel: true, wantCanceled: true, knownUsername: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &gatedHasher{PasswordHasher: fastHasher, hold: make(chan struct{})}
			svc, err := core.NewService(core.Config{MaxConcurrentHashes: tc.limit, HashQueueWait: tc.wait}, core.Deps{Store: e.store, Clock: e.clock, Hasher: g})
			if err != nil {
				t.Fatal(err)
			}
			user := "known@example.com"
			if !tc.knownUsername {
				user = "nobody@example.com"
			}
			ctx, cancel := context.WithCancel(e.ctx)
			defer cancel()
			errs := make(chan error, tc.logins)
			var wg sync.WaitGroup
			for range tc.logins {
				wg.Add(1)
				go func() { defer wg.Done(); errs <- login(svc, ctx, user) }()
			}
			// Let the first ones take their slots and the rest queue: wait
			// for the slots to fill (a loaded machine may take a while to
			// get there), then, where the rest are to be refused, for their
			// refusals, rather than for a fixed time.
			deadline := time.Now().Add(15 * time.Second)
			for g.inFlight.Load() < int32(tc.limit) && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond)
			if tc.wantBusy {
				for len(errs) < tc.logins-tc.limit && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
			}
			if tc.cancel {
				cancel()
				time.Sleep(50 * time.Millisecond)
			}
			close(g.hold)
			wg.Wait()
			close(errs)
			var busy, canceled int
			for err := range errs {
				var be *core.BusyError
				switch {
				case errors.As(err, &be):
					busy++
					if !errors.Is(err, core.ErrBusy) || be.RetryAfter <= 0 || be.Limit != tc.limit {
						t.Errorf("busy error %#v", be)
					}
				case errors.Is(err, context.Canceled):
					canceled++
				}
			}
			if p := g.peak.Load(); int(p) > tc.limit {
				t.Errorf("%d checks ran at once; the limit is %d", p, tc.limit)
			}
			if (busy > 0) != tc.wantBusy {
				t.Errorf("%d busy refusals, want some: %v", busy, tc.wantBusy)
			}
			if (canceled > 0) != tc.wantCanceled {
				t.Errorf("%d refusals for an ended request, want some: %v", canceled, tc.wantCanceled)
			}
		})
	}
}

// A new password is hashed inside a write transaction: it waits for a slot
// only briefly, so that a flood of logins cannot make it hold the write lock.
func TestSettingAPasswordDoesNotQueueBehindLogins(t *testing.T) {
	e := newEnv(t)
	u := e.activeUser(t, "known@example.com", core.RoleMember)
	g := &gatedHasher{PasswordHasher: fastHasher, hold: make(chan struct{})}
	svc, err := core.NewService(core.Config{MaxConcurrentHashes: 1, HashQueueWait: 5 * time.Second}, core.Deps{Store: e.store, Clock: e.clock, Hasher: g})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := svc.Login(e.ctx, core.LoginInput{Org: core.DefaultOrg, Username: "known@example.com", Password: goodPW, Audience: core.AudienceConsole})
		done <- err
	}()
	for g.inFlight.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	err = svc.SetPassword(e.ctx, admin, e.org, u.ID, "An0ther-long-passphrase")
	if d := time.Since(start); !errors.Is(err, core.ErrBusy) || d > time.Second {
		t.Errorf("set password with every slot taken: %v after %s; want busy within a second", err, d)
	}
	close(g.hold)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
