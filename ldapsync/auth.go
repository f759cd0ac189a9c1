package ldapsync

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster/core"
)

var _ core.DirectoryAuthenticator = (*Source)(nil)

// Authenticate is the core's login port: it binds as u and checks that the
// directory entry is still the one u was synced from. Wrong credentials and a
// vanished or different entry are a refusal (false), not an error; roster's
// own rules (status, lockout) then apply as for every user.
func (s *Source) Authenticate(ctx context.Context, u *core.User, password string) (bool, error) {
	ext, err := s.Bind(ctx, u.Username, password)
	switch {
	case errors.Is(err, core.ErrUnauthorized), errors.Is(err, core.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return ext == u.ExternalID, nil
}

// Bind checks a password by binding to the directory as the user and returns
// the user's external id. The user is found with the service account by
// username (escaped once, here, where the filter is built); empty passwords
// are refused before any bind, since many servers accept them as
// unauthenticated binds.
func (s *Source) Bind(ctx context.Context, username, password string) (string, error) {
	if strings.TrimSpace(username) == "" || password == "" {
		return "", fmt.Errorf("ldap login: %w: username and password are required", core.ErrUnauthorized)
	}
	c, err := s.connect(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	e, err := s.findUser(c, username)
	if err != nil {
		return "", err
	}
	ext, err := s.attrs.externalID(e)
	if err != nil || ext == "" {
		return "", fmt.Errorf("ldap login: %s has no usable %s", e.DN, s.attrs.ExternalID)
	}
	if err := c.Bind(e.DN, password); err != nil {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
			return "", fmt.Errorf("ldap login: %w", core.ErrUnauthorized)
		}
		return "", fmt.Errorf("bind %q: %w", e.DN, err)
	}
	return ext, nil
}

// findUser looks one user up by username: exactly one entry, or ErrNotFound.
func (s *Source) findUser(c *ldap.Conn, username string) (*ldap.Entry, error) {
	f := "(&" + s.users + "(" + s.attrs.Username + "=" + ldap.EscapeFilter(username) + "))"
	req := ldap.NewSearchRequest(s.cfg.Users.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2,
		int(s.cfg.Timeout.Seconds()), false, f, s.attrs.userAttributes(), nil)
	res, err := c.Search(req)
	if ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return nil, fmt.Errorf("ldap user %q: %w", username, &core.ConflictError{Field: "username", Message: "more than one directory entry has this username"})
	}
	if err != nil {
		return nil, fmt.Errorf("search user %q: %w", username, err)
	}
	switch len(res.Entries) {
	case 0:
		return nil, &core.NotFoundError{Kind: "ldap user", Key: username}
	case 1:
		return res.Entries[0], nil
	}
	return nil, fmt.Errorf("ldap user %q: %w", username, &core.ConflictError{Field: "username", Message: "more than one directory entry has this username"})
}

// Import looks one user up by username and imports just that user ("Add an
// LDAP user"), with the role the source's role rules give through the
// groups (nested included) that hold them. Their group memberships arrive
// with the next scheduled run, which keeps imported users in sync.
func (s *Source) Import(ctx context.Context, username string) (*core.UserView, error) {
	if s.cfg.Mode != "on_demand" {
		return nil, ErrNotOnDemand
	}
	c, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	e, err := s.findUser(c, username)
	if err != nil {
		return nil, err
	}
	r := &reader{s: s, byDN: map[dnKey]int32{}, targets: s.attrs.targets()}
	u, ok := r.user(e)
	if !ok {
		return nil, fmt.Errorf("import %q: %s", username, strings.Join(r.problems, "; "))
	}
	if len(r.targets) > 0 {
		if dn := mapExtra(r.targets, e, &u); dn != "" { // the manager: a user of the source already imported, or none
			r.snap.Users, r.managers = []core.SyncEntry{u}, map[int32]string{0: dn}
			if err := r.resolveManagers(ctx, c); err != nil {
				return nil, fmt.Errorf("import %q: %w", username, err)
			}
			u = r.snap.Users[0]
		}
	}
	if u.Disabled {
		return nil, &core.ValidationError{Problems: []core.FieldError{{Field: "username", Message: "the account is disabled in the directory"}}}
	}
	if len(s.rules) > 0 {
		in, err := s.groupsOf(c, e.DN, u.Username)
		if err != nil {
			return nil, err
		}
		u.Role = s.core.DefaultRole
		for _, rule := range s.rules {
			if in[rule.key] {
				u.Role = rule.role
				break
			}
		}
	}
	res, err := s.svc.ApplyDirectory(ctx, s.core, &core.DirectorySnapshot{Users: []core.SyncEntry{u}}, core.SyncOptions{MaxRemovals: s.guard})
	if err != nil {
		return nil, fmt.Errorf("import %q: %w", username, err)
	}
	if res.Conflicts+res.Errors > 0 {
		return nil, fmt.Errorf("import %q: %w", username, &core.ConflictError{Field: "username", Message: strings.Join(res.Problems, "; ")})
	}
	return s.svc.GetUserByUsername(ctx, s.core.OrgID, u.Username)
}

// groupsOf returns the keys of the groups holding dn, directly or through
// nested groups.
func (s *Source) groupsOf(c *ldap.Conn, dn, uid string) (map[dnKey]bool, error) {
	out := map[dnKey]bool{}
	next := "(|(member=" + ldap.EscapeFilter(dn) + ")(uniqueMember=" + ldap.EscapeFilter(dn) + ")(memberUid=" + ldap.EscapeFilter(uid) + "))"
	for depth := 0; next != "" && depth < 32; depth++ {
		req := ldap.NewSearchRequest(s.cfg.Groups.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0,
			int(s.cfg.Timeout.Seconds()), false, "(&"+s.groups+next+")", []string{"1.1"}, nil)
		res, err := c.Search(req)
		if err != nil {
			return nil, fmt.Errorf("search groups of %q: %w", dn, err)
		}
		var parts []string
		for _, g := range res.Entries {
			k, err := parseDNKey(g.DN)
			if err != nil || out[k] {
				continue
			}
			out[k] = true
			parts = append(parts, "(member="+ldap.EscapeFilter(g.DN)+")")
		}
		next = ""
		if len(parts) > 0 {
			next = "(|" + strings.Join(parts, "") + ")"
		}
	}
	return out, nil
}

// ErrNotOnDemand is returned by Import for sources in mode all.
var ErrNotOnDemand = errors.New("the source imports every user (mode all); on-demand import is for mode on_demand")

// Candidate is a directory user found by Search, for an admin to pick.
type Candidate struct {
	Username  string `json:"username"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
}

// Search finds up to limit users of an on-demand source whose username,
// first name, last name or email contains query (case-insensitively, as the
// directory compares), for "Add an LDAP user": the admin searches by name
// and picks. The query is escaped once, here, where the filter is built.
func (s *Source) Search(ctx context.Context, query string, limit int) ([]Candidate, error) {
	if s.cfg.Mode != "on_demand" {
		return nil, ErrNotOnDemand
	}
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	m := &s.attrs
	f := "(" + m.Username + "=*)"
	if q := strings.TrimSpace(query); q != "" {
		q = ldap.EscapeFilter(q)
		var or strings.Builder
		for _, a := range []string{m.Username, m.FirstName, m.LastName, m.Email} {
			if a != "" {
				or.WriteString("(" + a + "=*" + q + "*)")
			}
		}
		f = "(|" + or.String() + ")"
	}
	c, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	req := ldap.NewSearchRequest(s.cfg.Users.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, limit,
		int(s.cfg.Timeout.Seconds()), false, "(&"+s.users+f+")", []string{m.Username, m.FirstName, m.LastName, m.Email}, nil)
	res, err := c.Search(req)
	if err != nil && !(ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) && res != nil) {
		return nil, fmt.Errorf("search users %q: %w", query, err)
	}
	out := make([]Candidate, 0, len(res.Entries))
	for _, e := range res.Entries {
		out = append(out, Candidate{Username: e.GetAttributeValue(m.Username), FirstName: e.GetAttributeValue(m.FirstName),
			LastName: e.GetAttributeValue(m.LastName), Email: e.GetAttributeValue(m.Email)})
	}
	return out, nil
}
