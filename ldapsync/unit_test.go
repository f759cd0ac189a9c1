package ldapsync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestFormatGUID(t *testing.T) {
	tests := []struct {
		raw  []byte
		want string
		err  bool
	}{
		// AD stores the first three fields little-endian.
		{raw: []byte{0x04, 0x03, 0x02, 0x01, 0x06, 0x05, 0x08, 0x07, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10}, want: "01020304-0506-0708-090a-0b0c0d0e0f10"},
		{raw: make([]byte, 16), want: "00000000-0000-0000-0000-000000000000"},
		{raw: []byte{1, 2, 3}, err: true},
	}
	for _, tt := range tests {
		got, err := formatGUID(tt.raw)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("formatGUID(%x) = %q, %v; want %q", tt.raw, got, err, tt.want)
		}
	}
}

func TestUACDisabled(t *testing.T) {
	for v, want := range map[string]bool{"512": false, "514": true, "66048": false, "66050": true, "2": true, "": false, "junk": false} {
		if got := uacDisabled(v); got != want {
			t.Errorf("uacDisabled(%q) = %v", v, got)
		}
	}
}

func TestDNKey(t *testing.T) {
	same := [][2]string{
		{"uid=alice,ou=people,dc=example,dc=com", "UID=Alice, OU=People, DC=Example, DC=Com"},
		{"cn=x\\, y,dc=example,dc=com", "cn=x\\2C y,dc=example,dc=com"}, // slapd returns the hex form
		{"cn=a+sn=b,dc=com", "sn=b+cn=a,dc=com"},
	}
	for _, p := range same {
		a, err1 := parseDNKey(p[0])
		b, err2 := parseDNKey(p[1])
		if err1 != nil || err2 != nil || a != b {
			t.Errorf("%q and %q differ (%v %v)", p[0], p[1], err1, err2)
		}
	}
	differ := [][2]string{
		{"uid=alice,ou=people,dc=example,dc=com", "uid=alice,ou=staff,dc=example,dc=com"},
		{"cn=a\\,b,dc=com", "cn=a,b=x,dc=com"},
	}
	for _, p := range differ {
		a, _ := parseDNKey(p[0])
		b, _ := parseDNKey(p[1])
		if a == b {
			t.Errorf("%q and %q collide", p[0], p[1])
		}
	}
	if got := memberDN("uid=a,dc=com#'0101'B"); got != "uid=a,dc=com" {
		t.Errorf("memberDN = %q", got)
	}
}

func TestWatermarks(t *testing.T) {
	ad, _ := presetAttrs("active_directory")
	ol, _ := presetAttrs("openldap")
	ts, _ := ol.withOverrides(map[string]string{"watermark": "modifyTimestamp"})
	tests := []struct {
		m       attrMap
		a, b    string
		later   string
		changed string
	}{
		{ad, "999", "1000", "1000", "(!(uSNChanged<=1000))"},
		{ad, "1000", "", "1000", "(!(uSNChanged<=1000))"},
		{ol, "20261122200000.000001Z#000000#000#000000", "20261122200000.000002Z#000000#000#000000", "20261122200000.000002Z#000000#000#000000", "(!(entryCSN<=20261122200000.000002Z#000000#000#000000))"},
		{ts, "20261122200000Z", "20251122200000Z", "20261122200000Z", "(modifyTimestamp>=20261122200000Z)"},
		// Input is escaped where the filter is built.
		{ts, "", "x)(uid=*", "x)(uid=*", "(modifyTimestamp>=x\\29\\28uid=\\2a)"},
	}
	for _, tt := range tests {
		later := tt.m.laterWatermark(tt.a, tt.b)
		if later != tt.later {
			t.Errorf("laterWatermark(%q, %q) = %q", tt.a, tt.b, later)
		}
		if got := tt.m.changedSince(later); got != tt.changed {
			t.Errorf("changedSince(%q) = %q, want %q", later, got, tt.changed)
		}
		if _, err := ldap.CompileFilter(tt.m.changedSince(later)); err != nil {
			t.Errorf("%q does not compile: %v", tt.m.changedSince(later), err)
		}
	}
}

// fakeRanges answers ranged reads of one attribute like AD: windows of size
// per request, the last one ending in "*".
type fakeRanges struct {
	values []string
	size   int
	asked  []string
	fail   bool
}

func (f *fakeRanges) Search(req *ldap.SearchRequest) (*ldap.SearchResult, error) {
	if f.fail {
		return nil, errors.New("connection reset")
	}
	want := req.Attributes[0]
	f.asked = append(f.asked, want)
	var low int
	if _, err := fmt.Sscanf(want, "member;range=%d-*", &low); err != nil {
		return nil, err
	}
	high := low + f.size - 1
	name := fmt.Sprintf("member;range=%d-%d", low, high)
	if high >= len(f.values)-1 {
		high = len(f.values) - 1
		name = fmt.Sprintf("member;range=%d-*", low)
	}
	e := &ldap.Entry{DN: req.BaseDN, Attributes: []*ldap.EntryAttribute{{Name: name, Values: f.values[low : high+1]}}}
	return &ldap.SearchResult{Entries: []*ldap.Entry{e}}, nil
}

func TestFetchRanges(t *testing.T) {
	vals := make([]string, 3700)
	for i := range vals {
		vals[i] = fmt.Sprintf("cn=u%d,dc=corp", i)
	}
	tests := []struct {
		name  string
		first string
		size  int
		fail  bool
		asks  int
		err   bool
	}{
		{name: "AD's 1500 windows", first: "member;range=0-1499", size: 1500, asks: 2},
		{name: "small windows", first: "member;range=0-1499", size: 100, asks: 22},
		{name: "already complete", first: "member;range=0-*", size: 1500, asks: 0},
		{name: "a failed read fails the group", first: "member;range=0-1499", size: 1500, fail: true, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ra, ok := parseRanged(tt.first)
			if !ok {
				t.Fatalf("parseRanged(%q) failed", tt.first)
			}
			f := &fakeRanges{values: vals, size: tt.size, fail: tt.fail}
			got := slices.Clone(vals[:1500])
			err := fetchRanges(context.Background(), f, "cn=big,dc=corp", ra, func(v []string) { got = append(got, v...) })
			if (err != nil) != tt.err {
				t.Fatalf("err = %v", err)
			}
			if tt.err {
				return
			}
			if len(f.asked) != tt.asks {
				t.Errorf("%d requests: %v", len(f.asked), f.asked)
			}
			if ra.last {
				return
			}
			if !slices.Equal(got, vals) {
				t.Errorf("got %d values, want %d", len(got), len(vals))
			}
			if !strings.HasPrefix(f.asked[0], "member;range=1500-*") {
				t.Errorf("first request %q", f.asked[0])
			}
		})
	}
	for _, bad := range []string{"member", "member;range=x-1", "member;range=0-"} {
		if _, ok := parseRanged(bad); ok {
			t.Errorf("parseRanged(%q) accepted", bad)
		}
	}
}

// TestFingerprint: what changes the result of a source's query changes its
// fingerprint; what does not (URL order, DN case, page size, provisioning
// rules) leaves it.
func TestFingerprint(t *testing.T) {
	base := Config{Name: "corp", URLs: []string{"ldap://a:389", "ldap://b:389"}, Preset: "openldap",
		Users: Search{BaseDN: "ou=People,dc=example,dc=com"}, Groups: Search{BaseDN: "ou=groups,dc=example,dc=com"}, PageSize: 500}
	fp := func(edit func(c *Config)) string {
		t.Helper()
		c := base
		c.URLs = slices.Clone(base.URLs)
		c.Attributes = map[string]string{}
		if edit != nil {
			edit(&c)
		}
		a, err := presetAttrs(c.Preset)
		if err != nil {
			t.Fatal(err)
		}
		if a, err = a.withOverrides(c.Attributes); err != nil {
			t.Fatal(err)
		}
		return fingerprint(c, wrapFilter(c.Users.Filter, a.userFilter), wrapFilter(c.Groups.Filter, a.groupFilter), a)
	}
	same := fp(nil)
	for _, tt := range []struct {
		name    string
		edit    func(c *Config)
		changes bool
	}{
		{"URL order", func(c *Config) { c.URLs = []string{"ldap://b:389", "ldap://a:389"} }, false},
		{"DN case", func(c *Config) { c.Users.BaseDN = "OU=people,DC=Example,DC=com" }, false},
		{"page size", func(c *Config) { c.PageSize = 1000 }, false},
		{"default role", func(c *Config) { c.DefaultRole = "admin" }, false},
		{"users filter", func(c *Config) { c.Users.Filter = "(uid=a*)" }, true},
		{"users base DN", func(c *Config) { c.Users.BaseDN = "ou=staff,dc=example,dc=com" }, true},
		{"groups filter", func(c *Config) { c.Groups.Filter = "(cn=x)" }, true},
		{"another directory", func(c *Config) { c.URLs = []string{"ldap://c:389"} }, true},
		{"attribute map", func(c *Config) { c.Attributes["email"] = "mailPrimaryAddress" }, true},
		{"preset", func(c *Config) { c.Preset = "389ds" }, true},
		{"disabled filter", func(c *Config) { c.DisabledFilter = "(employeeType=gone)" }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := fp(tt.edit) != same; got != tt.changes {
				t.Errorf("fingerprint changed = %v, want %v", got, tt.changes)
			}
		})
	}
}
