// Package scimbench measures roster's SCIM door against an in-memory handler
// built on the same SCIM library: both run behind real listeners, driven by
// concurrent HTTP clients. Used by `go run ./bench/scim` and by the Go
// benchmarks in this package.
package scimbench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/server"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/scim"
)

// Target is a running SCIM server.
type Target struct {
	Name   string
	Base   string // …/scim/v2
	Token  string
	Client *http.Client
	close  func()

	mu    sync.Mutex
	users []User
	seq   atomic.Int64
	etags sync.Map // user id → the last ETag seen (for conditional GETs)
	// seeded runs after Seed: on PostgreSQL, ANALYZE, which autovacuum would
	// run within its naptime (a minute) of the bulk insert.
	seeded func() error
}

// User is a created user.
type User struct{ ID, UserName string }

// Close stops the server.
func (t *Target) Close() { t.close() }

func client(conns int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = conns * 2
	tr.MaxIdleConnsPerHost = conns * 2
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func serve(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = hs.Close() }, nil
}

// StartRoster runs roster (store, service, HTTP server with the SCIM door) on
// a fresh SQLite database in dir, with a SCIM token that does not invite.
func StartRoster(ctx context.Context, dir string, conns int) (*Target, error) {
	return StartRosterOn(ctx, "sqlite", filepath.Join(dir, "roster.db"), conns)
}

// StartRosterOn is StartRoster on the given store: driver "sqlite" (dsn: a
// file) or "postgres" (dsn: an empty database).
func StartRosterOn(ctx context.Context, driver, dsn string, conns int) (*Target, error) {
	st, err := store.Open(ctx, store.Options{Driver: driver, DSN: dsn, MaxOpenConns: conns, MaxIdleConns: conns}, nil)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	log := slog.New(slog.DiscardHandler)
	svc, err := core.NewService(core.Config{}, core.Deps{Store: st, Logger: log})
	if err != nil {
		st.Close()
		return nil, err
	}
	org, err := svc.Org(ctx, core.DefaultOrg)
	if err != nil {
		st.Close()
		return nil, err
	}
	secret, tok, err := svc.CreateToken(ctx, core.CLIActor(), org.ID, "bench", core.ScopeSCIM, "")
	if err != nil {
		st.Close()
		return nil, err
	}
	if err := svc.SetDirectorySettings(ctx, core.CLIActor(), org.ID, core.DirectorySettings{TokenID: tok.ID, Invite: false}); err != nil {
		st.Close()
		return nil, err
	}
	srv := server.New(server.Config{}, st.Ready, log)
	door, err := scim.New(scim.Config{}, svc, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	door.Mount(srv.Router())
	base, stop, err := serve(srv.Handler())
	if err != nil {
		st.Close()
		return nil, err
	}
	name := "roster (SQLite)"
	if driver == "postgres" {
		name = "roster (PostgreSQL)"
	}
	return &Target{Name: name, Base: base + "/scim/v2", Token: secret, Client: client(conns),
		close: func() { stop(); st.Close() }, seeded: func() error { return st.Analyze(ctx) }}, nil
}

// StartMemory runs the in-memory baseline.
func StartMemory(conns int) (*Target, error) {
	const token = "bench-memory-token"
	h, err := NewMemoryHandler(token)
	if err != nil {
		return nil, err
	}
	base, stop, err := serve(h)
	if err != nil {
		return nil, err
	}
	return &Target{Name: "in-memory (elimity-com/scim)", Base: base + "/scim/v2", Token: token, Client: client(conns), close: stop}, nil
}

// Do sends one request and returns the status and body.
func (t *Target) Do(method, path string, body any) (int, []byte, error) {
	code, _, b, err := t.DoHeader(method, path, body)
	return code, b, err
}

// DoHeader sends one request with extra headers (name, value, …) and
// returns the status, the response headers and the body.
func (t *Target) DoHeader(method, path string, body any, hdr ...string) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, t.Base+path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+t.Token)
	req.Header.Set("Content-Type", "application/scim+json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := t.Client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b, err
}

// NewUserBody is an Okta-like create body.
func NewUserBody(userName string) map[string]any {
	return map[string]any{
		"schemas":  []string{scim.URNUser},
		"userName": userName,
		"name":     map[string]any{"givenName": "Bench", "familyName": "User"},
		"emails":   []any{map[string]any{"value": userName, "type": "work", "primary": true}},
		"active":   true, "externalId": userName,
	}
}

// CreateUser creates one user and remembers it.
func (t *Target) CreateUser() error {
	un := fmt.Sprintf("u%07d@bench.example", t.seq.Add(1))
	code, h, b, err := t.DoHeader("POST", "/Users", NewUserBody(un))
	if err != nil {
		return err
	}
	if code != http.StatusCreated {
		return fmt.Errorf("POST /Users: %d %s", code, b)
	}
	var r struct{ ID string }
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	t.mu.Lock()
	t.users = append(t.users, User{ID: r.ID, UserName: un})
	t.mu.Unlock()
	if tag := h.Get("ETag"); tag != "" {
		t.etags.Store(r.ID, tag)
	}
	return nil
}

// Seed creates n users with conns concurrent clients.
func (t *Target) Seed(n, conns int) error {
	var wg sync.WaitGroup
	var left atomic.Int64
	left.Store(int64(n))
	errc := make(chan error, conns)
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				if err := t.CreateUser(); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	if t.seeded != nil {
		return t.seeded()
	}
	return nil
}

// RandomUser returns one of the created users.
func (t *Target) RandomUser() User {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.users[rand.IntN(len(t.users))]
}

// Users returns n created users (for group membership).
func (t *Target) Users(from, n int) []User {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.users[from : from+n])
}

// Op is one benchmarked operation: it sends one request and reports an
// error for anything but the expected status.
type Op struct {
	Name string
	Run  func(t *Target) error
}

func expect(code int, want int, b []byte, what string) error {
	if code != want {
		return fmt.Errorf("%s: %d %s", what, code, b)
	}
	return nil
}

// Ops are the per-request operations of the benchmark.
var Ops = []Op{
	{"POST /Users", func(t *Target) error { return t.CreateUser() }},
	{"GET /Users?filter=userName eq", func(t *Target) error {
		u := t.RandomUser()
		code, b, err := t.Do("GET", "/Users?filter=userName%20eq%20%22"+u.UserName+"%22&startIndex=1&count=100", nil)
		if err != nil {
			return err
		}
		if code == 200 && !bytes.Contains(b, []byte(u.ID)) {
			return fmt.Errorf("filter did not find %s", u.UserName)
		}
		return expect(code, 200, b, "filter")
	}},
	{"GET /Users/{id}", func(t *Target) error {
		code, b, err := t.Do("GET", "/Users/"+t.RandomUser().ID, nil)
		if err != nil {
			return err
		}
		return expect(code, 200, b, "get")
	}},
	// A conditional GET with the ETag last seen: 304 when unchanged. A 200
	// (the user was PATCHed since, or a server without If-None-Match, such
	// as the in-memory baseline) refreshes the ETag.
	{"GET /Users/{id} If-None-Match", func(t *Target) error {
		id := t.RandomUser().ID
		tag, _ := t.etags.Load(id)
		s, _ := tag.(string)
		code, h, b, err := t.DoHeader("GET", "/Users/"+id, nil, "If-None-Match", s)
		if err != nil {
			return err
		}
		if code == http.StatusOK {
			t.etags.Store(id, h.Get("ETag"))
			return nil
		}
		return expect(code, http.StatusNotModified, b, "conditional get")
	}},
	{"PATCH /Users/{id}", func(t *Target) error {
		body := map[string]any{"schemas": []string{scim.URNPatchOp}, "Operations": []any{
			map[string]any{"op": "replace", "path": "displayName", "value": fmt.Sprintf("Name %d", rand.IntN(1e9))}}}
		code, b, err := t.Do("PATCH", "/Users/"+t.RandomUser().ID, body)
		if err != nil {
			return err
		}
		return expect(code, 200, b, "patch")
	}},
	{"GET /Users page of 100", func(t *Target) error {
		t.mu.Lock()
		n := len(t.users)
		t.mu.Unlock()
		start := rand.IntN(max(n/100, 1))*100 + 1
		code, b, err := t.Do("GET", fmt.Sprintf("/Users?startIndex=%d&count=100", start), nil)
		if err != nil {
			return err
		}
		return expect(code, 200, b, "list")
	}},
}

// Result is the outcome of running one operation for a fixed time.
type Result struct {
	Op       string
	Requests int
	Errors   int
	FirstErr error
	Elapsed  time.Duration
	P50, P99 time.Duration
}

// PerSecond is the request rate.
func (r Result) PerSecond() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// Run drives op with conns concurrent clients for d.
func Run(t *Target, op Op, conns int, d time.Duration) Result {
	var mu sync.Mutex
	var lat []time.Duration
	var errs int
	var first error
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			var le int
			var lerr error
			for time.Now().Before(deadline) {
				s := time.Now()
				err := op.Run(t)
				local = append(local, time.Since(s))
				if err != nil {
					le++
					if lerr == nil {
						lerr = err
					}
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			errs += le
			if first == nil {
				first = lerr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	slices.Sort(lat)
	r := Result{Op: op.Name, Requests: len(lat), Errors: errs, FirstErr: first, Elapsed: el}
	if len(lat) > 0 {
		r.P50 = lat[len(lat)*50/100]
		r.P99 = lat[min(len(lat)*99/100, len(lat)-1)]
	}
	return r
}

// GroupPatch creates a group and adds n members in one PATCH, returning the
// PATCH's latency.
func GroupPatch(t *Target, members []User) (time.Duration, error) {
	code, b, err := t.Do("POST", "/Groups", map[string]any{"schemas": []string{scim.URNGroup},
		"displayName": fmt.Sprintf("bench-group-%d", t.seq.Add(1))})
	if err != nil {
		return 0, err
	}
	if code != http.StatusCreated {
		return 0, fmt.Errorf("POST /Groups: %d %s", code, b)
	}
	var g struct{ ID string }
	if err := json.Unmarshal(b, &g); err != nil {
		return 0, err
	}
	vals := make([]any, len(members))
	for i, m := range members {
		vals[i] = map[string]any{"value": m.ID}
	}
	body := map[string]any{"schemas": []string{scim.URNPatchOp}, "Operations": []any{map[string]any{"op": "add", "path": "members", "value": vals}}}
	start := time.Now()
	code, b, err = t.Do("PATCH", "/Groups/"+g.ID+"?excludedAttributes=members", body)
	el := time.Since(start)
	if err != nil {
		return 0, err
	}
	if code != 200 && code != 204 {
		return 0, fmt.Errorf("PATCH /Groups: %d %s", code, b)
	}
	return el, nil
}
