package ldapsync

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster/core"
)

// reader turns directory entries into a compact snapshot: users as core
// DirectoryUsers, DNs and posix uids as 64-bit keys, group members as
// indexes into the users.
type reader struct {
	s         *Source
	snap      core.DirectorySnapshot
	byDN      map[dnKey]int32
	byUID     map[uint64]int32
	disabled  map[dnKey]struct{} // matched by disabled_filter
	watermark string
	entries   int
	errors    int
	problems  []string
	progress  func(entriesRead int)
	targets   []target         // the source's extra attribute mappings
	managers  map[int32]string // user index → the manager's DN, until resolved
}

func (r *reader) problem(format string, args ...any) {
	r.errors++
	if len(r.problems) < 50 {
		r.problems = append(r.problems, fmt.Sprintf(format, args...))
	}
}

func (r *reader) tick() {
	r.entries++
	if r.progress != nil && r.entries%min(1000, r.s.cfg.PageSize) == 0 {
		r.progress(r.entries)
	}
}

// readUsers streams the users matching filter.
func (r *reader) readUsers(ctx context.Context, c *ldap.Conn, filter string) error {
	s := r.s
	if s.cfg.DisabledFilter != "" {
		f := "(&" + filter + wrapFilter(s.cfg.DisabledFilter, "") + ")"
		err := s.search(ctx, c, s.cfg.Users.BaseDN, f, []string{"1.1"}, func(e *ldap.Entry) error {
			k, err := parseDNKey(e.DN)
			if err != nil {
				return fmt.Errorf("entry %q: %w", e.DN, err)
			}
			r.disabled[k] = struct{}{}
			return nil
		})
		if err != nil {
			return err
		}
	}
	attrs := s.attrs.userAttributes()
	r.targets = s.attrs.targets()
	err := s.search(ctx, c, s.cfg.Users.BaseDN, filter, attrs, func(e *ldap.Entry) error {
		r.tick()
		u, ok := r.user(e)
		if !ok {
			return nil
		}
		var managerDN string
		if len(r.targets) > 0 {
			managerDN = mapExtra(r.targets, e, &u)
		}
		k, err := parseDNKey(e.DN)
		if err != nil {
			r.problem("%s: DN: %v", e.DN, err)
			return nil
		}
		if _, ok := r.disabled[k]; ok {
			u.Disabled = true
		}
		i := int32(len(r.snap.Users))
		r.snap.Users = append(r.snap.Users, u)
		r.byDN[k] = i
		r.byUID[strKey(u.Username)] = i
		if managerDN != "" {
			if r.managers == nil {
				r.managers = map[int32]string{}
			}
			r.managers[i] = managerDN
		}
		return nil
	})
	if err != nil {
		return err
	}
	return r.resolveManagers(ctx, c)
}

// resolveManagers turns each manager DN into the manager's external id: an
// entry read in this run, or (an incremental run reads only what changed)
// the entry itself, when it is a user of the source. Anything else is
// reported and leaves the user without a manager.
func (r *reader) resolveManagers(ctx context.Context, c *ldap.Conn) error {
	s := r.s
	looked := map[dnKey]string{}
	for _, i := range slices.Sorted(maps.Keys(r.managers)) {
		dn := r.managers[i]
		u := &r.snap.Users[i]
		k, err := parseDNKey(dn)
		if err != nil {
			r.problem("%s: manager %q is not a DN", u.Username, dn)
			continue
		}
		if j, ok := r.byDN[k]; ok {
			u.X().ManagerRef = r.snap.Users[j].ExternalID
			continue
		}
		ext, ok := looked[k]
		if !ok && !r.snap.Full {
			if err := ctx.Err(); err != nil {
				return err
			}
			res, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, int(s.cfg.Timeout/time.Second), false,
				s.users, []string{s.attrs.ExternalID}, nil))
			switch {
			case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
			case err != nil:
				return fmt.Errorf("read manager %q: %w", dn, err)
			case len(res.Entries) == 1:
				ext, _ = s.attrs.externalID(res.Entries[0])
			}
			looked[k] = ext
		}
		if ext == "" {
			r.problem("%s: manager %q is not a user of source %s: left empty", u.Username, dn, s.cfg.Name)
			continue
		}
		u.X().ManagerRef = ext
	}
	r.managers = nil
	return nil
}

// user maps one entry; entries without an id or a username are reported and skipped.
func (r *reader) user(e *ldap.Entry) (core.SyncEntry, bool) {
	m := &r.s.attrs
	id, err := m.externalID(e)
	if err != nil {
		r.problem("%s: %s: %v", e.DN, m.ExternalID, err)
		return core.SyncEntry{}, false
	}
	if id == "" {
		r.problem("%s: no %s", e.DN, m.ExternalID)
		return core.SyncEntry{}, false
	}
	// One allocation holds every value of the user (the entry's own strings
	// go with the page): the snapshot is one copy of the directory, no more.
	vals := [6]string{id, e.GetAttributeValue(m.Username), e.GetAttributeValue(m.Email), e.GetAttributeValue(m.FirstName),
		e.GetAttributeValue(m.LastName), e.GetAttributeValue(m.Phone)}
	n := 0
	for _, v := range vals {
		n += len(v)
	}
	var b strings.Builder
	b.Grow(n)
	for _, v := range vals {
		b.WriteString(v)
	}
	all, off := b.String(), 0
	for i, v := range vals {
		vals[i] = all[off : off+len(v)]
		off += len(v)
	}
	u := core.SyncEntry{
		ExternalID: vals[0], Username: vals[1], Email: vals[2], FirstName: vals[3], LastName: vals[4], Phone: vals[5],
		Disabled: m.disabled(e),
	}
	if u.Username == "" {
		r.problem("%s: no %s", e.DN, m.Username)
		return core.SyncEntry{}, false
	}
	r.watermark = m.laterWatermark(r.watermark, e.GetAttributeValue(m.Watermark))
	return u, true
}

// group is one directory group while the snapshot is read.
type group struct {
	key     dnKey
	ext     string
	name    string
	members []dnKey  // member / uniqueMember values (users, or nested groups)
	uids    []uint64 // posixGroup memberUid values
	users   []int32  // resolved: direct user members
	nested  []dnKey  // resolved: members that are not known users, maybe groups
	partial *rangedAttr
	dn      string
}

var memberAttrs = []string{"member", "uniqueMember", "memberUid"}

// groupReader reads the groups, on its own connection while the users are
// read on another: members are kept as keys and resolved afterwards.
type groupReader struct {
	s         *Source
	groups    []*group
	entries   int
	watermark string
	problems  []string
}

func (gr *groupReader) problem(format string, args ...any) {
	gr.problems = append(gr.problems, fmt.Sprintf(format, args...))
}

// read streams the groups and fetches the rest of AD's ranged member answers.
func (gr *groupReader) read(ctx context.Context, c *ldap.Conn) error {
	s := gr.s
	attrs := append([]string{s.attrs.GroupName, s.attrs.ExternalID, s.attrs.Watermark}, memberAttrs...)
	err := s.searchBuffered(ctx, c, s.cfg.Groups.BaseDN, s.groups, attrs, 1, func(e *ldap.Entry) error {
		gr.entries++
		k, err := parseDNKey(e.DN)
		if err != nil {
			gr.problem("%s: DN: %v", e.DN, err)
			return nil
		}
		ext, err := s.attrs.externalID(e)
		if err != nil || ext == "" {
			gr.problem("group %s: no usable %s", e.DN, s.attrs.ExternalID)
			return nil
		}
		g := &group{key: k, ext: ext, name: e.GetAttributeValue(s.attrs.GroupName), dn: e.DN}
		if g.name == "" {
			g.name = e.DN
		}
		gr.watermark = s.attrs.laterWatermark(gr.watermark, e.GetAttributeValue(s.attrs.Watermark))
		for _, a := range e.Attributes {
			switch {
			case strings.EqualFold(a.Name, "member"), strings.EqualFold(a.Name, "uniqueMember"):
				g.addMembers(a.Values)
			case strings.EqualFold(a.Name, "memberUid"):
				for _, v := range a.Values {
					g.uids = append(g.uids, strKey(v))
				}
			default:
				if ra, ok := parseRanged(a.Name); ok {
					g.addMembers(a.Values)
					if !ra.last {
						g.partial = &ra
					}
				}
			}
		}
		gr.groups = append(gr.groups, g)
		return nil
	})
	if err != nil {
		return err
	}
	// AD answers large groups in ranges; fetch the rest now that the paged
	// search is over (one request at a time on the connection).
	for _, g := range gr.groups {
		if g.partial == nil {
			continue
		}
		err := fetchRanges(ctx, connSearcher{c, s.cfg.Timeout}, g.dn, *g.partial, g.addMembers)
		if err != nil {
			return fmt.Errorf("group %s: %w", g.dn, err)
		}
	}
	return nil
}

func (g *group) addMembers(dns []string) {
	for _, v := range dns {
		k, err := parseDNKey(memberDN(v))
		if err != nil {
			continue // not a DN: nobody we know
		}
		g.members = append(g.members, k)
	}
}

// addGroups resolves the groups' members against the users read, flattens
// nested groups into the snapshot's groups and applies the role rules.
func (r *reader) addGroups(gr *groupReader) {
	r.entries += gr.entries
	r.watermark = r.s.attrs.laterWatermark(r.watermark, gr.watermark)
	for _, p := range gr.problems {
		r.problem("%s", p)
	}
	for _, g := range gr.groups {
		for _, k := range g.members {
			if i, ok := r.byDN[k]; ok {
				g.users = append(g.users, i)
			} else {
				g.nested = append(g.nested, k)
			}
		}
		for _, u := range g.uids {
			if i, ok := r.byUID[u]; ok {
				g.users = append(g.users, i)
			}
		}
		g.members, g.uids = nil, nil
	}
	r.snap.GroupsIncluded = true
	r.snap.Groups = flatten(gr.groups, len(r.snap.Users))
	keys := make([]dnKey, len(gr.groups))
	for i, g := range gr.groups {
		keys[i] = g.key
	}
	r.applyRoleRules(keys)
}

// flatten resolves nested groups (cycles included) into each group's
// effective members.
func flatten(groups []*group, nUsers int) []core.SyncGroup {
	byKey := make(map[dnKey]int, len(groups))
	for i, g := range groups {
		byKey[g.key] = i
	}
	out := make([]core.SyncGroup, 0, len(groups))
	seen := make([]bool, nUsers)
	visited := make([]bool, len(groups))
	for i, g := range groups {
		clear(visited)
		var members []int32
		stack := []int{i}
		visited[i] = true
		for len(stack) > 0 {
			cur := groups[stack[len(stack)-1]]
			stack = stack[:len(stack)-1]
			for _, u := range cur.users {
				if !seen[u] {
					seen[u] = true
					members = append(members, u)
				}
			}
			for _, k := range cur.nested {
				if j, ok := byKey[k]; ok && !visited[j] {
					visited[j] = true
					stack = append(stack, j)
				}
			}
		}
		for _, u := range members {
			seen[u] = false
		}
		slices.Sort(members)
		out = append(out, core.SyncGroup{ExternalID: g.ext, Name: g.name, Members: members})
	}
	return out
}

// applyRoleRules gives each user the role of the first rule whose group
// (with its nested groups) holds them, or the default role.
func (r *reader) applyRoleRules(keys []dnKey) {
	if len(r.s.rules) == 0 {
		return
	}
	byKey := map[dnKey]*core.SyncGroup{}
	for i := range r.snap.Groups {
		byKey[keys[i]] = &r.snap.Groups[i]
	}
	member := make([]map[int32]bool, len(r.s.rules))
	for i, rule := range r.s.rules {
		member[i] = map[int32]bool{}
		if g, ok := byKey[rule.key]; ok {
			for _, u := range g.Members {
				member[i][u] = true
			}
		}
	}
	rules := make([]core.RoleRule, len(r.s.rules))
	for i, rule := range r.s.rules {
		rules[i] = core.RoleRule{Group: rule.dn, Role: rule.role}
	}
	for ui := range r.snap.Users {
		idx := int32(ui)
		r.snap.Users[ui].Role = core.ResolveRole(rules, r.s.core.DefaultRole, func(group string) bool {
			for i := range rules {
				if rules[i].Group == group {
					return member[i][idx]
				}
			}
			return false
		})
	}
}

// rangedAttr is one "member;range=LOW-HIGH" attribute of an AD answer.
type rangedAttr struct {
	attr string // "member"
	high int    // last index returned
	last bool   // HIGH was "*": the final range
}

var rangeRE = regexp.MustCompile(`(?i)^([a-z0-9-]+);range=([0-9]+)-([0-9]+|\*)$`)

func parseRanged(name string) (rangedAttr, bool) {
	m := rangeRE.FindStringSubmatch(name)
	if m == nil {
		return rangedAttr{}, false
	}
	if m[3] == "*" {
		return rangedAttr{attr: m[1], last: true}, true
	}
	var hi int
	fmt.Sscanf(m[3], "%d", &hi)
	return rangedAttr{attr: m[1], high: hi}, true
}
