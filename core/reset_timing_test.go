package core_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
)

// recordingStore records the transactions a use case opens and the store
// calls it makes that could depend on whether a login exists.
type recordingStore struct {
	core.Store
	mu  sync.Mutex
	ops []string
}

func (r *recordingStore) add(op string) { r.mu.Lock(); r.ops = append(r.ops, op); r.mu.Unlock() }

func (r *recordingStore) InTx(ctx context.Context, fn func(core.Tx) error) error {
	r.add("InTx")
	return r.Store.InTx(ctx, func(tx core.Tx) error { return fn(&recordingTx{Tx: tx, r: r}) })
}

func (r *recordingStore) View(ctx context.Context, fn func(core.Tx) error) error {
	r.add("View")
	return r.Store.View(ctx, func(tx core.Tx) error { return fn(&recordingTx{Tx: tx, r: r}) })
}

type recordingTx struct {
	core.Tx
	r *recordingStore
}

func (t *recordingTx) OrgByName(ctx context.Context, name string) (*core.Org, error) {
	t.r.add("OrgByName")
	return t.Tx.OrgByName(ctx, name)
}

func (t *recordingTx) UserByUsername(ctx context.Context, orgID, username string) (*core.User, error) {
	t.r.add("UserByUsername")
	return t.Tx.UserByUsername(ctx, orgID, username)
}

func (t *recordingTx) UserByEmail(ctx context.Context, orgID, email string) (*core.User, error) {
	t.r.add("UserByEmail")
	return t.Tx.UserByEmail(ctx, orgID, email)
}

func (t *recordingTx) InsertResetRequest(ctx context.Context, req *core.ResetRequest) error {
	t.r.add("InsertResetRequest")
	return t.Tx.InsertResetRequest(ctx, req)
}

func (t *recordingTx) InsertPasswordReset(ctx context.Context, pr *core.PasswordReset) error {
	t.r.add("InsertPasswordReset")
	return t.Tx.InsertPasswordReset(ctx, pr)
}

func (t *recordingTx) VoidPasswordResets(ctx context.Context, userID string, at time.Time) error {
	t.r.add("VoidPasswordResets")
	return t.Tx.VoidPasswordResets(ctx, userID, at)
}

func (t *recordingTx) InsertMail(ctx context.Context, m *core.OutboxMail) error {
	t.r.add("InsertMail")
	return t.Tx.InsertMail(ctx, m)
}

func (t *recordingTx) InsertHistory(ctx context.Context, h *core.HistoryEntry) error {
	t.r.add("InsertHistory")
	return t.Tx.InsertHistory(ctx, h)
}

// A self-service reset request does the same store work whether the login
// is an eligible user, a disabled one, a directory user or nobody: one
// transaction with one insert. Who it was is resolved later, off the
// request path.
func TestPasswordResetRequestDoesTheSameWorkForAnyLogin(t *testing.T) {
	e := newEnv(t)
	e.activeUser(t, "real@example.com", core.RoleMember)
	off := e.activeUser(t, "off@example.com", core.RoleMember)
	if _, err := e.svc.ChangeStatus(e.ctx, admin, e.org, off.ID, core.ActDisable); err != nil {
		t.Fatal(err)
	}
	rec := &recordingStore{Store: e.store}
	svc, err := core.NewService(core.Config{}, core.Deps{Store: rec, Clock: e.clock, Hasher: fastHasher})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i, login := range []string{"real@example.com", "REAL@example.com", "nobody@example.com", "off@example.com", "no such user"} {
		rec.ops = nil
		if err := svc.RequestPasswordReset(e.ctx, e.org, login, ""); err != nil {
			t.Fatalf("%s: %v", login, err)
		}
		if i == 0 {
			want = slices.Clone(rec.ops)
			if !slices.Equal(want, []string{"InTx", "InsertResetRequest"}) {
				t.Fatalf("the request path does %v", want)
			}
		} else if !slices.Equal(rec.ops, want) {
			t.Errorf("%s: %v, but an eligible user's request does %v: the work tells whether the account exists", login, rec.ops, want)
		}
	}
	// The mail worker's part: only the eligible user gets a link (twice
	// requested, the second voids the first).
	if n, err := svc.ProcessPasswordResetRequests(e.ctx); err != nil || n != 5 {
		t.Fatalf("process: %d %v", n, err)
	}
	var mails int
	for _, op := range rec.ops {
		if op == "InsertMail" {
			mails++
		}
	}
	if mails != 2 {
		t.Fatalf("%d reset mails queued, want 2 (both for real@example.com)", mails)
	}
}
