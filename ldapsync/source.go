package ldapsync

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster/core"
)

// Source is one directory source, built once from its configuration.
type Source struct {
	cfg    Config
	core   core.SyncSource
	svc    Service
	log    *slog.Logger
	tls    map[string]*tls.Config // per URL, built once (CA, ServerName)
	attrs  attrMap
	rules  []roleRule
	guard  core.MaxRemovals
	users  string // compiled-checked user filter
	groups string // group filter
	fp     string // core.SourceSettings.Fingerprint
}

type roleRule struct {
	dn   string
	key  dnKey
	role core.Role
}

// Service is what the LDAP door asks of the core beyond a run (which the
// core drives through core.DirectorySource): the on-demand import of one
// directory user.
type Service interface {
	ApplyDirectory(ctx context.Context, src core.SyncSource, snap *core.DirectorySnapshot, o core.SyncOptions) (*core.SyncResult, error)
	GetUserByUsername(ctx context.Context, orgID, username string) (*core.UserView, error)
}

var _ Service = (*core.Service)(nil)

// Deps are what a Source needs.
type Deps struct {
	Service Service
	Logger  *slog.Logger
}

// New checks a source's configuration and builds it. orgID is the id of the
// organisation named by cfg.Org.
func New(cfg Config, orgID string, d Deps) (*Source, error) {
	if d.Service == nil {
		return nil, errors.New("ldapsync: a core service is required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Defaults()
	if ps := cfg.Validate(); len(ps) > 0 {
		msgs := make([]string, len(ps))
		for i, p := range ps {
			msgs[i] = p.Field + ": " + p.Message
		}
		return nil, fmt.Errorf("source %s: %s", cfg.Name, strings.Join(msgs, "; "))
	}
	if cfg.BindDN != "" && cfg.BindPassword == "" {
		return nil, fmt.Errorf("source %s: bind_dn %q has no password: roster does not make unauthenticated binds", cfg.Name, cfg.BindDN)
	}
	attrs, err := presetAttrs(cfg.Preset)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", cfg.Name, err)
	}
	if attrs, err = attrs.withOverrides(cfg.Attributes); err != nil {
		return nil, fmt.Errorf("source %s: %w", cfg.Name, err)
	}
	s := &Source{cfg: cfg, svc: d.Service, attrs: attrs, tls: map[string]*tls.Config{},
		log: d.Logger.With("component", "ldapsync", "source", cfg.Name)}
	s.users = wrapFilter(cfg.Users.Filter, attrs.userFilter)
	s.groups = wrapFilter(cfg.Groups.Filter, attrs.groupFilter)
	for _, f := range []struct{ key, v string }{{"users.filter", s.users}, {"groups.filter", s.groups}, {"disabled_filter", wrapFilter(cfg.DisabledFilter, "(objectClass=*)")}} {
		if _, err := ldap.CompileFilter(f.v); err != nil {
			return nil, fmt.Errorf("source %s: %s %q: %w", cfg.Name, f.key, f.v, err)
		}
	}
	if s.guard, err = core.ParseMaxRemovals(cfg.MaxRemovals); err != nil {
		return nil, fmt.Errorf("source %s: %w", cfg.Name, err)
	}
	for i, r := range cfg.RoleRules {
		k, err := parseDNKey(r.Group)
		if err != nil {
			return nil, fmt.Errorf("source %s: role_rules[%d].group %q is not a DN: %w", cfg.Name, i, r.Group, err)
		}
		s.rules = append(s.rules, roleRule{dn: r.Group, key: k, role: core.Role(r.Role)})
	}
	base := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipTLS} //nolint:gosec // opt-in, documented as never for production
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("source %s: ca_file: %w", cfg.Name, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("source %s: ca_file %s holds no PEM certificate", cfg.Name, cfg.CAFile)
		}
		base.RootCAs = pool
	}
	for _, raw := range cfg.URLs {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
			return nil, fmt.Errorf("source %s: %q is not an ldap:// or ldaps:// URL", cfg.Name, raw)
		}
		c := base.Clone()
		c.ServerName = u.Hostname()
		s.tls[raw] = c
	}
	invite := cfg.Invite == nil || *cfg.Invite
	role := core.Role(cfg.DefaultRole)
	if role == "" {
		role = core.RoleMember
	}
	s.fp = fingerprint(cfg, s.users, s.groups, attrs)
	s.core = core.SyncSource{Name: cfg.Name, OrgID: orgID, Invite: invite, LinkExisting: cfg.LinkExisting,
		Archive: cfg.Removal == "archive", DefaultRole: role, RoleCeiling: core.Role(cfg.RoleCeiling),
		Owned: owned(attrs.targets()), SkipDisabled: cfg.ImportDisabled != nil && !*cfg.ImportDisabled}
	return s, nil
}

// Name is the source's name.
func (s *Source) Name() string { return s.cfg.Name }

// OrgID is the organisation the source's users belong to.
func (s *Source) OrgID() string { return s.core.OrgID }

// Config is the source's configuration (its bind password included: never log it).
func (s *Source) Config() Config { return s.cfg }

// fingerprint identifies what defines a source's result: the directory
// (its URLs, in any order), the base DNs, the effective filters (the
// preset's or the config's), the preset and the attribute map. The scope is
// always the whole subtree. Page size, timeouts and provisioning rules do
// not change what is read, so they are not part of it.
func fingerprint(cfg Config, users, groups string, a attrMap) string {
	urls := make([]string, len(cfg.URLs))
	for i, u := range cfg.URLs {
		urls[i] = strings.ToLower(strings.TrimRight(u, "/"))
	}
	slices.Sort(urls)
	parts := []string{
		"urls=" + strings.Join(urls, " "),
		"users.base_dn=" + normDN(cfg.Users.BaseDN), "users.filter=" + users,
		"groups.base_dn=" + normDN(cfg.Groups.BaseDN), "groups.filter=" + groups,
		"disabled_filter=" + cfg.DisabledFilter, "preset=" + cfg.Preset, "scope=sub",
		"attributes=" + strings.Join([]string{a.Username, a.Email, a.FirstName, a.LastName, a.Phone, a.ExternalID, a.GroupName, a.Watermark}, ","),
	}
	for _, t := range a.targets() { // the mapped attributes: a new one needs a full read
		parts = append(parts, "attributes."+t.key+"="+t.attr)
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\n")))
	return hex.EncodeToString(sum[:16])
}

// normDN is a DN as compared: parsed and lower-cased (the DN as written
// when it does not parse; New refuses those anyway).
func normDN(dn string) string {
	if dn == "" {
		return ""
	}
	p, err := ldap.ParseDN(dn)
	if err != nil {
		return strings.ToLower(dn)
	}
	return strings.ToLower(p.String())
}

func wrapFilter(f, def string) string {
	f = strings.TrimSpace(f)
	if f == "" {
		return def
	}
	if !strings.HasPrefix(f, "(") {
		f = "(" + f + ")"
	}
	return f
}

// connect dials the source's URLs in order and binds as the service account.
func (s *Source) connect(ctx context.Context) (*ldap.Conn, error) {
	var errs []error
	for _, u := range s.cfg.URLs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c, err := s.dial(ctx, u)
		if err != nil {
			s.log.Warn("ldap server unavailable", "url", u, "err", err)
			errs = append(errs, err)
			continue
		}
		if err := s.bindService(c); err != nil {
			c.Close()
			return nil, err // a wrong password is wrong on every replica
		}
		return c, nil
	}
	return nil, fmt.Errorf("no ldap server of source %s answered: %w", s.cfg.Name, errors.Join(errs...))
}

// dial opens one connection (with StartTLS when configured), unbound.
func (s *Source) dial(ctx context.Context, u string) (*ldap.Conn, error) {
	d := &net.Dialer{Timeout: s.cfg.Timeout}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d.Timeout {
		d.Deadline = dl
	}
	c, err := ldap.DialURL(u, ldap.DialWithDialer(d), ldap.DialWithTLSConfig(s.tls[u]))
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", u, err)
	}
	c.SetTimeout(s.cfg.Timeout)
	if s.cfg.StartTLS {
		if err := c.StartTLS(s.tls[u]); err != nil {
			c.Close()
			return nil, fmt.Errorf("starttls %s: %w", u, err)
		}
	}
	return c, nil
}

func (s *Source) bindService(c *ldap.Conn) error {
	if s.cfg.BindDN == "" {
		return nil // anonymous reads, when the directory allows them
	}
	if err := c.Bind(s.cfg.BindDN, s.cfg.BindPassword); err != nil {
		return fmt.Errorf("bind %q: %w", s.cfg.BindDN, err)
	}
	return nil
}

// pageTimeout bounds one page of a paged search.
func (s *Source) pageTimeout() time.Duration { return 6 * s.cfg.Timeout }

// search streams the entries of a paged search (RFC 2696) to fn, one page
// at a time: no page outlives its processing. Any error, including a size
// limit, fails the whole search.
func (s *Source) search(ctx context.Context, c *ldap.Conn, base, filter string, attrs []string, fn func(*ldap.Entry) error) error {
	return s.searchBuffered(ctx, c, base, filter, attrs, 64, fn)
}

// searchBuffered is search with at most buffer decoded entries waiting:
// small for groups, whose entries carry thousands of member values.
func (s *Source) searchBuffered(ctx context.Context, c *ldap.Conn, base, filter string, attrs []string, buffer int, fn func(*ldap.Entry) error) error {
	// No request timeout on the connection while paging: go-ldap drops an
	// answer packet that waits longer than that timeout for its reader, which
	// would shorten a listing silently. Each page is bounded by its context.
	c.SetTimeout(0)
	defer c.SetTimeout(s.cfg.Timeout)
	paging := ldap.NewControlPaging(uint32(s.cfg.PageSize))
	req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, []ldap.Control{paging})
	for {
		pctx, cancel := context.WithTimeout(ctx, s.pageTimeout())
		res := c.SearchAsync(pctx, req, buffer)
		var controls []ldap.Control
		var ferr error
		for res.Next() {
			if e := res.Entry(); e != nil && ferr == nil {
				if ferr = fn(e); ferr != nil {
					cancel()
				}
			}
			if cs := res.Controls(); len(cs) > 0 {
				controls = cs
			}
		}
		err := ferr
		if err == nil {
			err = res.Err()
		}
		if err == nil {
			err = pctx.Err() // a cancelled search ends without an error of its own
		}
		cancel()
		if err != nil {
			return fmt.Errorf("search %q under %q: %w", filter, base, err)
		}
		// Every page ends with a paging control (RFC 2696). Without one the
		// answer is cut short: go-ldap ends a search on a closed connection
		// silently, and a short listing must never pass for a complete one.
		pc, ok := ldap.FindControl(controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if !ok {
			if c.IsClosing() {
				return fmt.Errorf("search %q under %q: the connection was closed", filter, base)
			}
			return fmt.Errorf("search %q under %q: the answer ended without a paging control (connection lost, or no RFC 2696 support)", filter, base)
		}
		if len(pc.Cookie) == 0 {
			return nil
		}
		paging.SetCookie(pc.Cookie)
	}
}
