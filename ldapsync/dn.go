package ldapsync

import (
	"hash/fnv"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"
)

// dnKey is a DN after ldap.ParseDN, folded (attribute types and values are
// compared without case, multi-valued RDNs in any order) and hashed to 64
// bits: snapshots key hundreds of thousands of DNs without keeping them.
type dnKey uint64

// dnHasher folds a DN's parts into its key: each RDN starts with '/', each
// type and value is lower-cased and written after its length. The hash is
// 64-bit FNV-1a, computed here without allocating: a full sync keys every
// user's DN and every member value of every group.
type dnHasher struct{ h uint64 }

const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

func newDNHasher() *dnHasher { return &dnHasher{h: fnvOffset64} }

func (d *dnHasher) byte(c byte) {
	d.h ^= uint64(c)
	d.h *= fnvPrime64
}

func (d *dnHasher) rdn() { d.byte('/') }

func (d *dnHasher) write(s string) {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			s = strings.ToLower(s)
			break
		}
	}
	// The length as four little-endian bytes, then the ASCII-lowered bytes
	// (strings.ToLower's own result for ASCII; non-ASCII was lowered above).
	n := uint32(len(s))
	d.byte(byte(n))
	d.byte(byte(n >> 8))
	d.byte(byte(n >> 16))
	d.byte(byte(n >> 24))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		d.byte(c)
	}
}

func (d *dnHasher) key() dnKey { return dnKey(d.h) }

func parseDNKey(dn string) (dnKey, error) {
	if k, ok := plainDNKey(dn); ok {
		return k, nil
	}
	d, err := ldap.ParseDN(dn)
	if err != nil {
		return 0, err
	}
	return keyOf(d), nil
}

// plainDNKey is parseDNKey without ldap.ParseDN for the DNs directories
// mostly hold: no escapes, quotes, multi-valued RDNs or hex values. It
// gives the key ParseDN would (a test and a fuzz target hold it to that), at
// a fraction of the cost: a full sync keys every user's DN and every member
// value of every group. ok is false when the DN needs the full parser.
func plainDNKey(dn string) (k dnKey, ok bool) {
	if strings.ContainsAny(dn, "\\\"+#;<>\x00") || strings.Trim(dn, " ") == "" || !utf8.ValidString(dn) {
		return 0, false
	}
	h := newDNHasher()
	for rdn := range strings.SplitSeq(dn, ",") {
		typ, val, found := strings.Cut(rdn, "=")
		typ = strings.Trim(typ, " ")
		if !found || typ == "" {
			return 0, false // ParseDN's error, or its odd cases
		}
		h.rdn()
		h.write(typ)
		h.write(strings.Trim(val, " "))
	}
	return h.key(), true
}

func keyOf(d *ldap.DN) dnKey {
	h := newDNHasher()
	for _, rdn := range d.RDNs {
		attrs := rdn.Attributes
		if len(attrs) > 1 {
			attrs = slices.Clone(attrs)
			slices.SortFunc(attrs, func(a, b *ldap.AttributeTypeAndValue) int {
				return strings.Compare(strings.ToLower(a.Type)+"="+strings.ToLower(a.Value), strings.ToLower(b.Type)+"="+strings.ToLower(b.Value))
			})
		}
		h.rdn()
		for _, a := range attrs {
			h.write(a.Type)
			h.write(a.Value)
		}
	}
	return h.key()
}

// memberDN strips the optional "#'0101'B" unique identifier of a
// uniqueMember value (RFC 4517 NameAndOptionalUID).
func memberDN(v string) string {
	if i := strings.LastIndex(v, "#'"); i > 0 && strings.HasSuffix(v, "'B") {
		return v[:i]
	}
	return v
}

// strKey hashes a string value (a posixGroup memberUid) exactly.
func strKey(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
