package mail_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/mail"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/testkit/pgtest"
	"github.com/rosterhq/roster/internal/testkit/rostertest"
)

const publicURL = "https://roster.test"

// env is a fresh, migrated SQLite file with a service on a fake clock.
type env struct {
	t     testing.TB
	ctx   context.Context
	path  string // sqlite: the file; postgres: the DSN
	drv   string
	st    *store.Store
	svc   *core.Service
	clock *rostertest.Clock
	orgID string
	r     *mail.Renderer
	// owner, ownerGone: the next open's Deps.LeaseOwner and LeaseOwnerGone.
	owner     string
	ownerGone func(string) bool
}

func newEnv(t *testing.T) *env { return newEnvB(t) }

func newEnvB(t testing.TB) *env {
	t.Helper()
	drv, path := pgtest.Store(t, filepath.Join(t.TempDir(), "roster.db"))
	e := &env{t: t, ctx: context.Background(), path: path, drv: drv,
		clock: rostertest.NewClock(time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC))}
	e.open()
	o, err := e.svc.Org(e.ctx, core.DefaultOrg)
	if err != nil {
		t.Fatal(err)
	}
	e.orgID = o.ID
	if e.r, err = mail.NewRenderer(); err != nil {
		t.Fatal(err)
	}
	return e
}

// open opens the database file (again) and builds a new service: what a
// restarted daemon does.
func (e *env) open() {
	e.t.Helper()
	st, err := store.Open(e.ctx, store.Options{Driver: e.drv, DSN: e.path}, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := st.Migrate(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	e.st = st
	e.t.Cleanup(func() { _ = st.Close() })
	e.svc, err = core.NewService(core.Config{}, core.Deps{Store: st, Clock: e.clock, Hasher: rostertest.Hasher,
		LeaseOwner: e.owner, LeaseOwnerGone: e.ownerGone})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) restart() {
	e.t.Helper()
	if err := e.st.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.open()
}

func (e *env) sender(s *smtpServer) *mail.SMTPSender {
	e.t.Helper()
	snd, err := mail.NewSMTPSender(mail.SMTPConfig{Host: s.Host, Port: s.Port, TLS: mail.TLSNone,
		From: "Roster <no-reply@roster.test>", Timeout: 5 * time.Second})
	if err != nil {
		e.t.Fatal(err)
	}
	return snd
}

func (e *env) worker(snd mail.Sender, cfg mail.WorkerConfig) *mail.Worker {
	e.t.Helper()
	cfg.PublicURL = publicURL
	w, err := mail.NewWorker(cfg, mail.WorkerDeps{Outbox: e.svc, Sender: snd, Renderer: e.r, Clock: e.clock})
	if err != nil {
		e.t.Fatal(err)
	}
	return w
}

func (e *env) drain(w *mail.Worker) int {
	e.t.Helper()
	n, err := w.Drain(e.ctx)
	if err != nil {
		e.t.Fatalf("drain: %v", err)
	}
	return n
}

// invite creates a native user invited by mail.
func (e *env) invite(username, first, lang, mailLang string) *core.UserView {
	e.t.Helper()
	res, err := e.svc.CreateUser(e.ctx, core.CLIActor(), core.NewUser{OrgID: e.orgID, Username: username,
		Email: username, FirstName: first, LastName: "Tester", Language: lang, MailLanguage: mailLang, Invite: core.InviteByMail})
	if err != nil {
		e.t.Fatalf("create %s: %v", username, err)
	}
	if res.InviteToken != "" {
		e.t.Fatalf("a mailed invite must not hand its token to the caller")
	}
	return res.User
}

func (e *env) user(id string) *core.UserView {
	e.t.Helper()
	u, err := e.svc.GetUser(e.ctx, e.orgID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// outboxRow is a raw row of mail_outbox, read with plain SQL.
type outboxRow struct {
	ID, UserID, State, Token, Language, LastError, ClaimedBy string
	Attempts                                                 int
	Next                                                     time.Time
}

func (e *env) outbox() []outboxRow {
	e.t.Helper()
	driver, dsn, order := "sqlite3", "file:"+e.path+"?_query_only=true&_loc=UTC", "rowid"
	if e.drv == "postgres" {
		driver, dsn, order = "pgx", e.path, "id" // ids are UUIDv7: in creation order
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id, user_id, state, token, language, last_error, claimed_by, attempts, next_attempt_at FROM mail_outbox ORDER BY created_at, ` + order)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var r outboxRow
		if err := rows.Scan(&r.ID, &r.UserID, &r.State, &r.Token, &r.Language, &r.LastError, &r.ClaimedBy, &r.Attempts, &r.Next); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func (e *env) history(userID string) []string {
	e.t.Helper()
	hs, err := e.svc.History(e.ctx, e.orgID, userID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, h := range hs {
		out = append(out, h.Action)
	}
	return out
}

// tokenOf pulls the invitation token out of a mail's text part.
func tokenOf(t *testing.T, p parsedMail) string {
	t.Helper()
	i := strings.Index(p.Text, publicURL+"/invite/")
	if i < 0 {
		t.Fatalf("no invitation link in text part:\n%s", p.Text)
	}
	rest := p.Text[i+len(publicURL+"/invite/"):]
	if j := strings.IndexAny(rest, " \r\n"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}
