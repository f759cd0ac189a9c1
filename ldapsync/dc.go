package ldapsync

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// dcInfo is what a directory server says of itself in its root DSE: an
// Active Directory domain controller's dsServiceName (its NTDS Settings
// object: which DC it is) and highestCommittedUSN (the last change number it
// committed). Both are empty for servers that do not say.
type dcInfo struct {
	name string
	usn  string
}

// readDC reads the root DSE of the server c is connected to, for sources
// whose watermark is a change number (uSNChanged): those numbers are each
// DC's own, so a watermark is only good on the DC that gave it.
func (s *Source) readDC(c *ldap.Conn) (dcInfo, error) {
	if !s.attrs.numericWatermark {
		return dcInfo{}, nil
	}
	res, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, int(s.cfg.Timeout/time.Second), false,
		"(objectClass=*)", []string{"dsServiceName", "highestCommittedUSN"}, nil))
	if err != nil {
		return dcInfo{}, fmt.Errorf("read the root DSE: %w", err)
	}
	if len(res.Entries) == 0 {
		return dcInfo{}, nil
	}
	e := res.Entries[0]
	dc := dcInfo{name: e.GetAttributeValue("dsServiceName"), usn: e.GetAttributeValue("highestCommittedUSN")}
	if _, err := strconv.ParseUint(dc.usn, 10, 64); err != nil {
		dc.usn = ""
	}
	return dc, nil
}

// A change-number watermark kept with its DC reads "<usn>;<dsServiceName>"
// (a number holds no ';'); one without a DC is the number alone.
func splitDCWatermark(wm string) (usn, dc string) {
	usn, dc, _ = strings.Cut(wm, ";")
	return usn, dc
}

func joinDCWatermark(usn, dc string) string {
	if dc == "" || usn == "" {
		return usn
	}
	return usn + ";" + dc
}

// sameDC reports whether two dsServiceName values name one DC (DNs compared
// as DNs).
func sameDC(a, b string) bool {
	return a == b || normDN(a) == normDN(b)
}
