package ldapsync

import (
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// slowDNKey is the key through ldap.ParseDN, the reference plainDNKey must match.
func slowDNKey(dn string) (dnKey, error) {
	d, err := ldap.ParseDN(dn)
	if err != nil {
		return 0, err
	}
	return keyOf(d), nil
}

var dnSeeds = []string{
	"uid=user000001,ou=people,dc=example,dc=com",
	"UID=User000001, OU=People , DC=Example,DC=COM",
	"cn=Zoë Müller,ou=people,dc=example,dc=com",
	"cn=a=b,dc=x",
	"cn=,dc=x",
	"cn=   ,dc=x",
	"common name=x y,dc=x",
	"cn=Smith\\, John,ou=people,dc=example,dc=com",
	"cn=John+uid=jd,dc=example,dc=com",
	"cn=#04024869,dc=example,dc=com",
	"cn=a,",
	"=a,dc=x",
	"cn",
	"",
	"   ",
	"cn=\"quoted\",dc=x",
	"cn=a;dc=x",
	"cn=bad\xff,dc=x",
	"CN=Domain Users,CN=Users,DC=corp,DC=example,DC=com",
}

// The fast path gives exactly ParseDN's key whenever it answers, and
// declines every DN that ParseDN treats specially.
func TestPlainDNKeyMatchesParseDN(t *testing.T) {
	answered := 0
	for _, dn := range dnSeeds {
		k, ok := plainDNKey(dn)
		if !ok {
			continue
		}
		answered++
		want, err := slowDNKey(dn)
		if err != nil {
			t.Errorf("%q: fast path answered, ParseDN fails: %v", dn, err)
			continue
		}
		if k != want {
			t.Errorf("%q: fast key %x, ParseDN key %x", dn, k, want)
		}
	}
	if answered < 7 {
		t.Fatalf("fast path answered only %d plain DNs", answered)
	}
	for _, dn := range []string{"cn=Smith\\, John,dc=x", "cn=John+uid=jd,dc=x", "cn=#0402,dc=x", "cn=a,", "cn=bad\xff,dc=x"} {
		if _, ok := plainDNKey(dn); ok {
			t.Errorf("%q: the fast path answered a DN it must leave to ParseDN", dn)
		}
	}
	// Spelled differently, the same entry: one key.
	a, _ := parseDNKey("uid=user000001,ou=people,dc=example,dc=com")
	b, _ := parseDNKey("UID=User000001 , ou=People,DC=example,dc=com")
	c, _ := parseDNKey("uid=user000001,ou=people,dc=example,dc=com\\ ")
	if a != b {
		t.Error("case and spaces around separators change the key")
	}
	if c == a {
		t.Error("an escaped trailing space is ignored")
	}
}

func FuzzPlainDNKey(f *testing.F) {
	for _, dn := range dnSeeds {
		f.Add(dn)
	}
	f.Fuzz(func(t *testing.T, dn string) {
		k, ok := plainDNKey(dn)
		if !ok {
			return
		}
		want, err := slowDNKey(dn)
		if err != nil {
			t.Fatalf("%q: fast path answered, ParseDN fails: %v", dn, err)
		}
		if k != want {
			t.Fatalf("%q: fast key %x, ParseDN key %x", dn, k, want)
		}
	})
}
