package console

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/rosterhq/roster/core"
)

// ConsoleMount is the path prefix to route to the Console handler.
const ConsoleMount = "/console/"

// consoleCSP is the console's Content-Security-Policy: every script, style,
// image and request comes from roster itself; no inline script, no frames
// of the console anywhere. Mail previews are shown in sandboxed srcdoc
// frames (no script runs there), and a srcdoc document takes the console's
// policy: for the preview to look like the mail, inline style attributes
// and <style> blocks are allowed (style-src-attr, style-src-elem). The
// console's own files have none (TestConsoleFilesHaveNoInlineCodeOrExternalURLs)
// and build the page without innerHTML, so this lets no markup in; styles
// still load nothing from another origin (img-src, font-src: 'self').
const consoleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"style-src-elem 'self' 'unsafe-inline'; style-src-attr 'unsafe-inline'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

//go:embed static
var staticFS embed.FS

//go:embed templates/setup.html
var setupFS embed.FS

// SetupService is what the console's first-run setup needs of the core service.
type SetupService interface {
	Org(ctx context.Context, name string) (*core.Org, error)
	ListUsers(ctx context.Context, q core.UserQuery) ([]core.UserView, error)
	CreateUser(ctx context.Context, a core.Actor, in core.NewUser) (*core.Created, error)
}

var _ SetupService = (*core.Service)(nil)

// Console serves the web console: the single-page app under /console/ (plain
// HTML, CSS and ES modules embedded in the binary, talking to /api/v1 with a
// cookie session) and the first-run setup page /console/setup.
type Console struct {
	svc    SetupService
	log    *slog.Logger
	org    string
	static fs.FS
	etags  map[string]string // file name → strong ETag (hash of the embedded content)
	setup  *template.Template
	mux    *http.ServeMux

	mu         sync.Mutex
	setupToken string // the one-time first-run token; "" when none is open
}

// NewConsole builds the console handler for the organisation org (the
// default organisation when empty).
func NewConsole(svc SetupService, org string, log *slog.Logger) (*Console, error) {
	if svc == nil {
		return nil, errors.New("console: a service is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if org == "" {
		org = core.DefaultOrg
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	tpl, err := template.ParseFS(setupFS, "templates/setup.html")
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	etags := map[string]string{}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		etags[p] = `"` + hex.EncodeToString(sum[:12]) + `"`
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	c := &Console{svc: svc, log: log.With("component", "console"), org: org, static: sub, etags: etags, setup: tpl, mux: http.NewServeMux()}
	c.mux.HandleFunc("GET /console/{$}", c.index)
	c.mux.HandleFunc("GET /console/static/{file...}", c.file)
	c.mux.HandleFunc("GET /console/setup", c.showSetup)
	cop := http.NewCrossOriginProtection()
	c.mux.Handle("POST /console/setup", cop.Handler(http.HandlerFunc(c.doSetup)))
	c.mux.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not found", http.StatusNotFound)
	})
	return c, nil
}

// ServeHTTP implements http.Handler. The security headers are set here,
// over any defaults a middleware set before.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", consoleCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer") // the setup URL carries its token
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if r.URL.Path == "/console" {
		http.Redirect(w, r, ConsoleMount, http.StatusMovedPermanently)
		return
	}
	c.mux.ServeHTTP(w, r)
}

// SetupLink opens the one-time first-run setup when the organisation has no
// owner yet and answers its link (publicURL + /console/setup?token=…); it
// answers "" when an owner exists. A new call replaces an earlier token. The
// token lives in memory only: a restart voids it.
func (c *Console) SetupLink(ctx context.Context, publicURL string) (string, error) {
	need, err := c.needsOwner(ctx)
	if err != nil || !need {
		return "", err
	}
	tok, err := core.NewSecret("")
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.setupToken = tok
	c.mu.Unlock()
	return strings.TrimRight(publicURL, "/") + ConsoleMount + "setup?token=" + tok, nil
}

func (c *Console) needsOwner(ctx context.Context) (bool, error) {
	o, err := c.svc.Org(ctx, c.org)
	if err != nil {
		return false, fmt.Errorf("console setup: %w", err)
	}
	owners, err := c.svc.ListUsers(ctx, core.UserQuery{OrgID: o.ID, Roles: []core.Role{core.RoleOwner}, Limit: 1,
		Statuses: []core.Status{core.StatusInvited, core.StatusActive, core.StatusDisabled, core.StatusLocked, core.StatusInactive}})
	if err != nil {
		return false, fmt.Errorf("console setup: %w", err)
	}
	return len(owners) == 0, nil
}

// tokenOK compares a presented setup token with the open one.
func (c *Console) tokenOK(tok string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.setupToken != "" && subtle.ConstantTimeCompare([]byte(c.setupToken), []byte(tok)) == 1
}

// takeToken consumes the open token if tok is it.
func (c *Console) takeToken(tok string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.setupToken == "" || subtle.ConstantTimeCompare([]byte(c.setupToken), []byte(tok)) != 1 {
		return false
	}
	c.setupToken = ""
	return true
}

func (c *Console) restoreToken(tok string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.setupToken == "" {
		c.setupToken = tok
	}
}

func (c *Console) index(w http.ResponseWriter, r *http.Request) {
	c.serveFile(w, r, "index.html")
}

func (c *Console) file(w http.ResponseWriter, r *http.Request) {
	c.serveFile(w, r, r.PathValue("file"))
}

func (c *Console) serveFile(w http.ResponseWriter, r *http.Request, name string) {
	name = path.Clean(name)
	if !fs.ValidPath(name) || name == "." {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	b, err := fs.ReadFile(c.static, name)
	if err != nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) { // not left to the host's mime tables
	case ".js":
		ct = "text/javascript; charset=utf-8"
	case ".css":
		ct = "text/css; charset=utf-8"
	case ".html":
		ct = "text/html; charset=utf-8"
	case ".svg":
		ct = "image/svg+xml"
	case ".json":
		ct = "application/json; charset=utf-8"
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	// Revalidated on every load (no-cache), answered 304 while unchanged.
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", c.etags[name])
	if inm := r.Header.Get("If-None-Match"); inm != "" && inm == c.etags[name] {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", ct)
	_, _ = w.Write(b)
}

type setupPage struct {
	SetUp    bool // the organisation has an owner: nothing to set up
	Token    string
	Error    string
	Field    string
	Done     bool
	Username string
	Email    string
	First    string
	Last     string
}

func (c *Console) renderSetup(w http.ResponseWriter, status int, p setupPage) {
	var b bytes.Buffer
	if err := c.setup.Execute(&b, p); err != nil {
		c.log.Error("render setup page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

const setupInvalid = "This setup link is not valid: it was already used, replaced by a restart of roster, or an owner exists. Sign in, or create an owner with `roster user create --role owner`."

// setUp answers the "already set up" page (and voids any open token) once
// the organisation has an owner, however it got one (this page, the CLI, an
// import or a directory); false when setup is still open.
func (c *Console) setUp(w http.ResponseWriter, r *http.Request) bool {
	need, err := c.needsOwner(r.Context())
	if err != nil {
		c.log.Error("setup", "err", err)
		c.renderSetup(w, http.StatusInternalServerError, setupPage{Error: "Something went wrong; see the server log."})
		return true
	}
	if need {
		return false
	}
	c.mu.Lock()
	c.setupToken = ""
	c.mu.Unlock()
	c.renderSetup(w, http.StatusNotFound, setupPage{SetUp: true, Error: setupDone})
	return true
}

const setupDone = "The organisation already has an owner, so there is nothing to set up. Sign in; an owner adds further owners and admins."

func (c *Console) showSetup(w http.ResponseWriter, r *http.Request) {
	if c.setUp(w, r) {
		return
	}
	tok := r.URL.Query().Get("token")
	if !c.tokenOK(tok) {
		c.renderSetup(w, http.StatusNotFound, setupPage{Error: setupInvalid})
		return
	}
	c.renderSetup(w, http.StatusOK, setupPage{Token: tok})
}

func (c *Console) doSetup(w http.ResponseWriter, r *http.Request) {
	if c.setUp(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		c.renderSetup(w, http.StatusBadRequest, setupPage{Error: "The form could not be read."})
		return
	}
	f := r.PostForm
	tok := f.Get("token")
	p := setupPage{Token: tok, Username: f.Get("username"), Email: f.Get("email"), First: f.Get("first_name"), Last: f.Get("last_name")}
	// Take the token first, so that two submissions cannot both create an owner.
	if !c.takeToken(tok) {
		c.renderSetup(w, http.StatusNotFound, setupPage{Error: setupInvalid})
		return
	}
	if f.Get("password") != f.Get("confirm") {
		c.restoreToken(tok)
		p.Error, p.Field = "The two passwords differ.", "password"
		c.renderSetup(w, http.StatusBadRequest, p)
		return
	}
	ctx := r.Context()
	need, err := c.needsOwner(ctx)
	if err != nil {
		c.restoreToken(tok)
		c.log.Error("setup", "err", err)
		c.renderSetup(w, http.StatusInternalServerError, setupPage{Token: tok, Error: "Something went wrong; see the server log."})
		return
	}
	if !need {
		c.renderSetup(w, http.StatusNotFound, setupPage{SetUp: true, Error: setupDone})
		return
	}
	o, err := c.svc.Org(ctx, c.org)
	if err == nil {
		_, err = c.svc.CreateUser(ctx, core.SystemActor("console-setup"), core.NewUser{OrgID: o.ID, Username: p.Username,
			Email: p.Email, FirstName: p.First, LastName: p.Last, Role: core.RoleOwner, Invite: core.NoInvite, Password: f.Get("password")})
	}
	var ve *core.ValidationError
	var ce *core.ConflictError
	switch {
	case err == nil:
		c.log.Info("first owner created through the setup link", "username", p.Username)
		c.renderSetup(w, http.StatusOK, setupPage{Done: true, Username: p.Username})
	case errors.As(err, &ve):
		c.restoreToken(tok)
		p.Error, p.Field = ve.Error(), ve.Field()
		c.renderSetup(w, http.StatusBadRequest, p)
	case errors.As(err, &ce):
		c.restoreToken(tok)
		p.Error, p.Field = ce.Error(), ce.Field
		c.renderSetup(w, http.StatusConflict, p)
	case errors.Is(err, core.ErrBusy):
		c.restoreToken(tok)
		p.Error = "The server is busy checking other passwords; submit the form again in a moment."
		w.Header().Set("Retry-After", "1")
		c.renderSetup(w, http.StatusServiceUnavailable, p)
	default:
		c.restoreToken(tok)
		c.log.Error("setup", "err", err)
		c.renderSetup(w, http.StatusInternalServerError, setupPage{Token: tok, Error: "Something went wrong; see the server log."})
	}
}
