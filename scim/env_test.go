package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/server"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/testkit/pgtest"
	"github.com/rosterhq/roster/scim"
)

// env is a real roster: a migrated SQLite file, the core service, the HTTP
// server with the SCIM door mounted, on a real listener.
type env struct {
	t     testing.TB
	st    *store.Store
	svc   *core.Service
	srv   *httptest.Server
	token string // SCIM token of org "default", name "okta"
	orgID string
	logs  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type envOpt struct {
	cfg      scim.Config
	settings *core.DirectorySettings
}

func newEnv(t testing.TB, opts ...func(*envOpt)) *env {
	t.Helper()
	o := envOpt{cfg: scim.Config{AuthCacheTTL: -1}}
	for _, f := range opts {
		f(&o)
	}
	ctx := context.Background()
	driver, dsn := pgtest.Store(t, filepath.Join(t.TempDir(), "roster.db"))
	st, err := store.Open(ctx, store.Options{Driver: driver, DSN: dsn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, err := core.NewService(core.Config{}, core.Deps{Store: st, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{}, st.Ready, log)
	h, err := scim.New(o.cfg, svc, log)
	if err != nil {
		t.Fatal(err)
	}
	h.Mount(srv.Router())
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	org, err := svc.Org(ctx, core.DefaultOrg)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, svc: svc, srv: ts, orgID: org.ID, logs: logs}
	set := core.DirectorySettings{Invite: false, DefaultRole: core.RoleMember}
	if o.settings != nil {
		set = *o.settings
	}
	e.token = e.newToken(org.ID, "okta", set)
	return e
}

func withSettings(s core.DirectorySettings) func(*envOpt) {
	return func(o *envOpt) { o.settings = &s }
}

func withConfig(c scim.Config) func(*envOpt) {
	return func(o *envOpt) { o.cfg = c }
}

func (e *env) newToken(orgID, name string, set core.DirectorySettings) string {
	e.t.Helper()
	ctx := context.Background()
	secret, tok, err := e.svc.CreateToken(ctx, core.CLIActor(), orgID, name, core.ScopeSCIM, "")
	if err != nil {
		e.t.Fatal(err)
	}
	set.TokenID = tok.ID
	if err := e.svc.SetDirectorySettings(ctx, core.CLIActor(), orgID, set); err != nil {
		e.t.Fatal(err)
	}
	return secret
}

// resp is one HTTP answer.
type resp struct {
	status int
	body   map[string]any
	raw    string
	hdr    http.Header
}

func (r resp) str(path string) string { return fmt.Sprint(dig(r.body, path)) }

// dig walks a JSON document: "meta.location", "Resources.0.userName",
// "urn:…:User.employeeNumber" (URN keys are taken whole).
func dig(v any, path string) any {
	for path != "" {
		var key string
		if strings.HasPrefix(path, "urn:") {
			i := strings.Index(path, "User.")
			if i < 0 {
				key, path = path, ""
			} else {
				key, path = path[:i+4], path[i+5:]
			}
		} else {
			key, path, _ = strings.Cut(path, ".")
		}
		switch x := v.(type) {
		case map[string]any:
			v = x[key]
		case []any:
			var i int
			if _, err := fmt.Sscanf(key, "%d", &i); err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func (e *env) do(method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	return e.doToken(e.token, method, path, body, hdr...)
}

func (e *env) doToken(token, method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+"/scim/v2"+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/scim+json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, raw: string(raw), hdr: res.Header}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			e.t.Fatalf("%s %s: response is not a JSON object: %v: %s", method, path, err, raw)
		}
	}
	return out
}

// must asserts the status and returns the response.
func (e *env) must(status int, r resp) resp {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

func user(userName string, extra map[string]any) map[string]any {
	m := map[string]any{
		"schemas":  []string{scim.URNUser},
		"userName": userName,
		"name":     map[string]any{"givenName": "Ada", "familyName": "Lovelace"},
		"emails":   []any{map[string]any{"value": userName, "type": "work", "primary": true}},
		"active":   true,
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func (e *env) createUser(userName string, extra map[string]any) string {
	e.t.Helper()
	r := e.must(http.StatusCreated, e.do("POST", "/Users", user(userName, extra)))
	return r.str("id")
}

func patch(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{scim.URNPatchOp}, "Operations": ops}
}

func op(o, path string, value any) map[string]any {
	m := map[string]any{"op": o}
	if path != "" {
		m["path"] = path
	}
	if value != nil {
		m["value"] = value
	}
	return m
}

// history returns the history of a target.
func (e *env) history(id string) []core.HistoryEntry {
	e.t.Helper()
	h, err := e.svc.History(context.Background(), e.orgID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

// snapshot is the stored state of every user and membership, to prove that
// a rejected request changed nothing.
func (e *env) snapshot() string {
	e.t.Helper()
	users, err := e.svc.ListUsers(context.Background(), core.UserQuery{OrgID: e.orgID})
	if err != nil {
		e.t.Fatal(err)
	}
	for i := range users {
		users[i].InviteExpiresAt = nil
	}
	b, _ := json.Marshal(users)
	return string(b)
}
