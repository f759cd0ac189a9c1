package slapdtest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// TestBenchDirectory loads a small benchmark directory into a real slapd and
// checks its shape: every user, escaped DNs that parse back to their cn,
// memberOf on the users matching the groups' members, 2.06 memberships per user.
func TestBenchDirectory(t *testing.T) {
	const n = 500
	var ldif bytes.Buffer
	if err := BenchDirectory(&ldif, n); err != nil {
		t.Fatal(err)
	}
	srv := Start(t, ldif.String())
	c, err := ldap.DialURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(AdminDN, AdminPW); err != nil {
		t.Fatal(err)
	}
	users, err := c.SearchWithPaging(ldap.NewSearchRequest(PeopleDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=inetOrgPerson)", []string{"uid", "cn", "memberOf"}, nil), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(users.Entries) != n {
		t.Fatalf("%d users, want %d", len(users.Entries), n)
	}
	norm := func(dn string) string {
		p, err := ldap.ParseDN(dn)
		if err != nil {
			t.Fatalf("%q: %v", dn, err)
		}
		return strings.ToLower(p.String())
	}
	memberOf, escaped, nonASCII := map[string]int{}, 0, 0
	for _, e := range users.Entries {
		for _, g := range e.GetAttributeValues("memberOf") {
			memberOf[norm(g)]++
		}
		dn, err := ldap.ParseDN(e.DN)
		if err != nil {
			t.Fatalf("%q: %v", e.DN, err)
		}
		if rdn := dn.RDNs[0].Attributes[0]; rdn.Type == "cn" {
			if rdn.Value != e.GetAttributeValue("cn") || !strings.ContainsAny(rdn.Value, `,+"\`) {
				t.Fatalf("RDN value %q, cn %q", rdn.Value, e.GetAttributeValue("cn"))
			}
			escaped++
		}
		if strings.ContainsFunc(e.GetAttributeValue("cn"), func(r rune) bool { return r > 127 }) {
			nonASCII++
		}
	}
	if escaped != n/5 || nonASCII < n/2 {
		t.Fatalf("%d escaped DNs, %d non-ASCII names of %d", escaped, nonASCII, n)
	}
	groups, err := c.Search(ldap.NewSearchRequest(GroupsDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=groupOfNames)", []string{"member"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(groups.Entries) != BenchGroups {
		t.Fatalf("%d groups", len(groups.Entries))
	}
	total := 0
	for _, g := range groups.Entries {
		ms := g.GetAttributeValues("member")
		total += len(ms)
		if got := memberOf[norm(g.DN)]; got != len(ms) {
			t.Fatalf("group %q: %d members, %d users with memberOf it", g.DN, len(ms), got)
		}
	}
	if want := BenchDirectoryMemberships(n); total != want || want != 2*n+3*n/50 {
		t.Fatalf("%d memberships, want %d (2.06 per user)", total, want)
	}
	if BenchDirectoryMemberships(100000) != 206000 {
		t.Fatal("100,000 users do not hold 206,000 memberships")
	}
	// A user with an escaped DN is found by it.
	dn := BenchDirectoryUserDN(5)
	res, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"cn"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("base search %q: %v", dn, err)
	}
	t.Logf("%s (as slapd answers it: %s), cn %q", dn, res.Entries[0].DN, res.Entries[0].GetAttributeValue("cn"))
}
