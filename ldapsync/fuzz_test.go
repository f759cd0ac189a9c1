package ldapsync

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"
)

// FuzzObjectGUID: any byte string is either a clean error or a canonical
// UUID that encodes exactly those 16 bytes.
func FuzzObjectGUID(f *testing.F) {
	f.Add([]byte{0x04, 0x03, 0x02, 0x01, 0x06, 0x05, 0x08, 0x07, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10})
	f.Add(make([]byte, 16))
	f.Add([]byte{1, 2, 3})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := formatGUID(raw)
		if len(raw) != 16 {
			if err == nil {
				t.Fatalf("%d bytes accepted as %q", len(raw), s)
			}
			return
		}
		if err != nil || len(s) != 36 || strings.Count(s, "-") != 4 {
			t.Fatalf("formatGUID(%x) = %q, %v", raw, s, err)
		}
		// The little-endian fields: byte 3 comes first, byte 15 last.
		if want := strings.ToLower(hexByte(raw[3])); s[:2] != want || s[34:] != hexByte(raw[15]) {
			t.Fatalf("formatGUID(%x) = %q: wrong byte order", raw, s)
		}
		e := &ldap.Entry{DN: "cn=x", Attributes: []*ldap.EntryAttribute{{Name: "objectGUID", Values: []string{string(raw)}, ByteValues: [][]byte{raw}}}}
		ad, _ := presetAttrs("active_directory")
		if got, err := ad.externalID(e); err != nil || got != s {
			t.Fatalf("externalID = %q, %v; want %q", got, err, s)
		}
	})
}

func hexByte(b byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&15]})
}

// FuzzWatermark: watermarks (uSNChanged, entryCSN, modifyTimestamp) come from
// the server; whatever they hold, the later one is one of the two and the
// "changed since" filter built from it compiles (input escaped exactly once).
func FuzzWatermark(f *testing.F) {
	f.Add("999", "1000")
	f.Add("20261122200000.000001Z#000000#000#000000", "20261122200000.000002Z#000000#000#000000")
	f.Add("20261122200000Z", "20251122200000Z")
	f.Add("", "x)(uid=*")
	f.Add("18446744073709551616", "1")
	f.Add("\\", "\x00(")
	ad, _ := presetAttrs("active_directory")
	ol, _ := presetAttrs("openldap")
	ts, _ := ol.withOverrides(map[string]string{"watermark": "modifyTimestamp"})
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, m := range []attrMap{ad, ol, ts} {
			later := m.laterWatermark(a, b)
			if later != a && later != b {
				t.Fatalf("laterWatermark(%q, %q) = %q", a, b, later)
			}
			if m.laterWatermark(later, a) != later || m.laterWatermark(later, b) != later {
				t.Fatalf("laterWatermark is not a maximum for %q, %q", a, b)
			}
			if !utf8.ValidString(later) {
				continue // the server sends UTF-8; ldap.EscapeFilter escapes bytes regardless
			}
			fl := m.changedSince(later)
			if _, err := ldap.CompileFilter(fl); err != nil {
				t.Fatalf("changedSince(%q) = %q does not compile: %v", later, fl, err)
			}
		}
	})
}

// FuzzDN: DNs with escapes, hex values and multi-valued RDNs. Parsing never
// panics; a DN that parses keys the same as its re-encoded form and its
// upper-cased form (DNs compare without case).
func FuzzDN(f *testing.F) {
	for _, s := range []string{
		"uid=alice,ou=people,dc=example,dc=com", "UID=Alice, OU=People, DC=Example, DC=Com",
		"cn=x\\, y,dc=example,dc=com", "cn=x\\2C y,dc=example,dc=com", "cn=a+sn=b,dc=com",
		"cn=#04024869,dc=com", "cn=\\23hash\\20,dc=com", "uid=a,dc=com#'0101'B", "cn=\"quoted, value\",o=x",
		"", "=", ",", "cn=\\", "cn=\\zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = memberDN(s)
		_, _ = parseRanged(s)
		d, err := ldap.ParseDN(s)
		k, err2 := parseDNKey(s)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("ParseDN and parseDNKey disagree on %q: %v / %v", s, err, err2)
		}
		if err != nil {
			return
		}
		if keyOf(d) != k {
			t.Fatalf("key of %q not stable", s)
		}
		if up := strings.ToUpper(s); isASCII(s) && !strings.Contains(s, "#") && !strings.Contains(s, "\\") {
			if k2, err := parseDNKey(up); err == nil && k2 != k {
				t.Fatalf("%q and %q key differently", s, up)
			}
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
