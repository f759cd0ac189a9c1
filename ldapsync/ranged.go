package ldapsync

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// searcher is the one LDAP operation ranged retrieval needs; a fake in tests.
type searcher interface {
	Search(req *ldap.SearchRequest) (*ldap.SearchResult, error)
}

type connSearcher struct {
	c       *ldap.Conn
	timeout time.Duration
}

func (s connSearcher) Search(req *ldap.SearchRequest) (*ldap.SearchResult, error) {
	req.TimeLimit = int(s.timeout / time.Second)
	return s.c.Search(req)
}

// fetchRanges reads the rest of a ranged attribute (AD's "member;range=0-1499"
// for groups over 1500 members): it asks for "member;range=HIGH+1-*" until
// the server answers a range ending in "*".
func fetchRanges(ctx context.Context, s searcher, dn string, first rangedAttr, add func([]string)) error {
	cur := first
	for rounds := 0; !cur.last; rounds++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if rounds > 100000 {
			return fmt.Errorf("ranged %s: no end after %d requests", cur.attr, rounds)
		}
		want := fmt.Sprintf("%s;range=%d-*", cur.attr, cur.high+1)
		res, err := s.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{want}, nil))
		if err != nil {
			return fmt.Errorf("read %s: %w", want, err)
		}
		if len(res.Entries) != 1 {
			return fmt.Errorf("read %s: %d entries", want, len(res.Entries))
		}
		next, found := rangedAttr{}, false
		for _, a := range res.Entries[0].Attributes {
			if ra, ok := parseRanged(a.Name); ok && strings.EqualFold(ra.attr, cur.attr) {
				add(a.Values)
				next, found = ra, true
			}
		}
		if !found {
			return fmt.Errorf("read %s: the answer holds no range", want)
		}
		if !next.last && next.high <= cur.high {
			return fmt.Errorf("read %s: the range does not advance (%d after %d)", want, next.high, cur.high)
		}
		cur = next
	}
	return nil
}
