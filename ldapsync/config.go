package ldapsync

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster/core"
)

// Config is one directory source bound to one organisation: an entry of
// the config file's ldap.sources. The config loader embeds it; Defaults
// and Validate are the LDAP door's own rules for it, checked once (by
// `roster config check` and at start), before New builds the source.
type Config struct {
	Name             string            `yaml:"name"`
	Org              string            `yaml:"org"`
	URLs             []string          `yaml:"urls"`
	StartTLS         bool              `yaml:"start_tls"`
	CAFile           string            `yaml:"ca_file"`
	InsecureSkipTLS  bool              `yaml:"insecure_skip_verify"`
	Timeout          time.Duration     `yaml:"timeout"`
	BindDN           string            `yaml:"bind_dn"`
	BindPassword     string            `yaml:"bind_password"`
	BindPasswordFile string            `yaml:"bind_password_file"`
	Preset           string            `yaml:"preset"`          // openldap | active_directory | 389ds
	DisabledFilter   string            `yaml:"disabled_filter"` // users matching it are disabled, beside the preset's rule
	Users            Search            `yaml:"users"`
	Groups           Search            `yaml:"groups"`
	Attributes       map[string]string `yaml:"attributes"`
	RoleRules        []RoleRule        `yaml:"role_rules"`
	DefaultRole      string            `yaml:"default_role"`
	RoleCeiling      string            `yaml:"role_ceiling"` // the most role_rules and default_role may grant; admin

	Mode   string `yaml:"mode"` // all | on_demand
	Invite *bool  `yaml:"invite"`
	// ImportDisabled: a user disabled in the directory when first seen is
	// created disabled (true, the default) or skipped (false).
	ImportDisabled *bool         `yaml:"import_disabled"`
	Removal        string        `yaml:"removal"` // disable | archive
	MaxRemovals    string        `yaml:"max_removals"`
	LinkExisting   string        `yaml:"link_existing"` // never | username | email
	Interval       time.Duration `yaml:"interval"`
	FullSyncEvery  time.Duration `yaml:"full_sync_every"`
	PageSize       int           `yaml:"page_size"`
}

// Search is a base DN and a filter.
type Search struct {
	BaseDN string `yaml:"base_dn"`
	Filter string `yaml:"filter"`
}

// RoleRule maps a directory group to an org role.
type RoleRule struct {
	Group string `yaml:"group"`
	Role  string `yaml:"role"`
}

// Defaults fills the keys left out with the product's defaults.
func (c *Config) Defaults() {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	defDur := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	def(&c.Org, "default")
	def(&c.Preset, "openldap")
	def(&c.DefaultRole, "member")
	def(&c.RoleCeiling, "admin")
	def(&c.Mode, "all")
	def(&c.Removal, "disable")
	def(&c.MaxRemovals, "5%")
	def(&c.LinkExisting, "never")
	defDur(&c.Timeout, 10*time.Second)
	defDur(&c.Interval, 15*time.Minute)
	defDur(&c.FullSyncEvery, 24*time.Hour)
	if c.PageSize == 0 {
		c.PageSize = 1000
	}
	if c.Invite == nil {
		t := true
		c.Invite = &t
	}
	if c.ImportDisabled == nil {
		t := true
		c.ImportDisabled = &t
	}
}

var (
	sourceNameRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	maxRemovalsRE = regexp.MustCompile(`^([0-9]+)(%?)$`)
)

// Validate lists every problem of the source's settings, each with its key
// relative to the source ("urls[0]", "role_rules[1].role"); none when it is
// good. It needs no directory: what only the directory can tell (a bind
// that fails) New and the first run say.
func (c *Config) Validate() []core.FieldError {
	var ps []core.FieldError
	add := func(key, format string, args ...any) {
		ps = append(ps, core.FieldError{Field: key, Message: fmt.Sprintf(format, args...)})
	}
	oneOf := func(key, v string, allowed ...string) {
		if !slices.Contains(allowed, v) {
			add(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
		}
	}
	rs := slices.Clone(core.Roles)
	slices.SortFunc(rs, func(a, b core.Role) int { return b.Power() - a.Power() }) // owner first
	roles := make([]string, len(rs))
	for i, r := range rs {
		roles[i] = string(r)
	}
	switch {
	case c.Name == "":
		add("name", "is required")
	case !sourceNameRE.MatchString(c.Name):
		add("name", "%q must be lower-case letters, digits, - and _", c.Name)
	}
	if len(c.URLs) == 0 {
		add("urls", "at least one URL is required")
	}
	for i, raw := range c.URLs {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
			add(fmt.Sprintf("urls[%d]", i), "%q is not an ldap:// or ldaps:// URL", raw)
		} else if u.Scheme == "ldaps" && c.StartTLS {
			add(fmt.Sprintf("urls[%d]", i), "ldaps:// and start_tls exclude each other")
		}
	}
	oneOf("preset", c.Preset, "openldap", "active_directory", "389ds")
	if c.Users.BaseDN == "" {
		add("users.base_dn", "is required")
	}
	for _, f := range []struct{ key, v string }{{"users.filter", c.Users.Filter}, {"groups.filter", c.Groups.Filter}, {"disabled_filter", c.DisabledFilter}} {
		if f.v == "" {
			continue
		}
		if _, err := ldap.CompileFilter(wrapFilter(f.v, "")); err != nil {
			add(f.key, "%q is not an LDAP filter: %v", f.v, err)
		}
	}
	oneOf("role_ceiling", c.RoleCeiling, roles...)
	ceiling := core.Role(c.RoleCeiling)
	above := func(r string) bool { return ceiling.Valid() && core.Role(r).Valid() && core.Role(r).Above(ceiling) }
	for i, r := range c.RoleRules {
		key := fmt.Sprintf("role_rules[%d]", i)
		if r.Group == "" {
			add(key+".group", "is required")
		} else if _, err := ldap.ParseDN(r.Group); err != nil {
			add(key+".group", "%q is not a DN: %v", r.Group, err)
		}
		oneOf(key+".role", r.Role, roles...)
		if above(r.Role) {
			add(key+".role", "%s is above the source's role_ceiling (%s); raise role_ceiling to grant it", r.Role, c.RoleCeiling)
		}
	}
	oneOf("default_role", c.DefaultRole, roles...)
	if above(c.DefaultRole) {
		add("default_role", "%s is above the source's role_ceiling (%s); raise role_ceiling to grant it", c.DefaultRole, c.RoleCeiling)
	}
	if len(c.RoleRules) > 0 && c.Groups.BaseDN == "" {
		add("groups.base_dn", "is required when role_rules are set")
	}
	for _, k := range slices.Sorted(maps.Keys(c.Attributes)) {
		switch {
		case strings.TrimSpace(c.Attributes[k]) == "":
			add("attributes."+k, "a directory attribute name is required")
		case slices.Contains(overridable, k):
		default:
			if err := checkMappedKey(k); err != nil {
				add("attributes."+k, "%v (or one of %s)", err, strings.Join(overridable, ", "))
			}
		}
	}
	if _, ok := c.Attributes["manager"]; ok {
		if _, ok := c.Attributes[core.AttrNameManager]; ok {
			add("attributes.manager", "manager and manager_id name the same attribute: keep one")
		}
	}
	oneOf("mode", c.Mode, "all", "on_demand")
	oneOf("removal", c.Removal, "disable", "archive")
	oneOf("link_existing", c.LinkExisting, "never", "username", "email")
	if m := maxRemovalsRE.FindStringSubmatch(c.MaxRemovals); m == nil {
		add("max_removals", "%q is not a count or a percentage such as 5%%", c.MaxRemovals)
	} else if n, _ := strconv.Atoi(m[1]); m[2] == "%" && n > 100 {
		add("max_removals", "%q is over 100%%", c.MaxRemovals)
	}
	if c.Interval < time.Minute {
		add("interval", "%s is shorter than one minute", c.Interval)
	}
	if c.FullSyncEvery < c.Interval {
		add("full_sync_every", "%s is shorter than interval %s", c.FullSyncEvery, c.Interval)
	}
	if c.PageSize < 1 || c.PageSize > 10000 {
		add("page_size", "%d is not between 1 and 10000", c.PageSize)
	}
	if c.Timeout <= 0 {
		add("timeout", "must be positive")
	}
	return ps
}
