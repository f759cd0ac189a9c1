package ldapsync

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster/core"
)

// attrMap names the directory attributes a preset (or the source's
// attributes overrides) maps onto roster's fields.
type attrMap struct {
	Username   string
	Email      string
	FirstName  string
	LastName   string
	Phone      string
	ExternalID string
	GroupName  string
	Watermark  string // modifyTimestamp, or uSNChanged on AD

	binaryID         bool // the external id is a binary GUID (AD objectGUID)
	numericWatermark bool // the watermark compares as a number (uSNChanged)
	// uniqueWatermark: no two changes share a value (entryCSN, uSNChanged), so
	// an incremental run asks for values strictly after the watermark. With
	// modifyTimestamp (one-second resolution) it asks for >=, re-reading the
	// entries of that second rather than missing a change made in it.
	uniqueWatermark bool
	// disabled decides whether an entry is disabled in the directory.
	disabled      func(e *ldap.Entry) bool
	disabledAttrs []string

	userFilter  string
	groupFilter string

	// extra maps directory attributes onto the schema's other attributes
	// and the organisation's custom fields (mapped.go), by key.
	extra map[string]string
}

// overridable lists the keys of a source's attributes map.
var overridable = []string{"username", "email", "first_name", "last_name", "phone", "external_id", "group_name", "watermark"}

func presetAttrs(preset string) (m attrMap, err error) {
	defer func() { m.extra = presetExtra(preset) }()
	switch preset {
	case "openldap", "":
		return attrMap{
			Username: "uid", Email: "mail", FirstName: "givenName", LastName: "sn", Phone: "telephoneNumber",
			// entryCSN, not modifyTimestamp: microsecond resolution, so an
			// incremental run re-reads only the entry at the watermark instead
			// of every entry changed in that second (a bulk load: all of them).
			ExternalID: "entryUUID", GroupName: "cn", Watermark: "entryCSN", uniqueWatermark: true,
			disabled: func(e *ldap.Entry) bool {
				return e.GetAttributeValue("pwdAccountLockedTime") != "" || isTrue(e.GetAttributeValue("nsAccountLock"))
			},
			disabledAttrs: []string{"pwdAccountLockedTime", "nsAccountLock"},
			userFilter:    "(objectClass=inetOrgPerson)",
			groupFilter:   "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))",
		}, nil
	case "389ds":
		return attrMap{
			Username: "uid", Email: "mail", FirstName: "givenName", LastName: "sn", Phone: "telephoneNumber",
			ExternalID: "nsUniqueId", GroupName: "cn", Watermark: "modifyTimestamp",
			disabled:      func(e *ldap.Entry) bool { return isTrue(e.GetAttributeValue("nsAccountLock")) },
			disabledAttrs: []string{"nsAccountLock"},
			userFilter:    "(objectClass=inetOrgPerson)",
			groupFilter:   "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))",
		}, nil
	case "active_directory":
		return attrMap{
			Username: "sAMAccountName", Email: "mail", FirstName: "givenName", LastName: "sn", Phone: "telephoneNumber",
			ExternalID: "objectGUID", GroupName: "cn", Watermark: "uSNChanged",
			binaryID: true, numericWatermark: true, uniqueWatermark: true,
			disabled:      func(e *ldap.Entry) bool { return uacDisabled(e.GetAttributeValue("userAccountControl")) },
			disabledAttrs: []string{"userAccountControl"},
			userFilter:    "(&(objectCategory=person)(objectClass=user))",
			groupFilter:   "(objectClass=group)",
		}, nil
	}
	return attrMap{}, fmt.Errorf("preset %q is not one of openldap, active_directory, 389ds", preset)
}

// withOverrides applies a source's attributes map.
func (m attrMap) withOverrides(o map[string]string) (attrMap, error) {
	for k, v := range o {
		if strings.TrimSpace(v) == "" {
			return m, fmt.Errorf("attributes.%s: an attribute name is required", k)
		}
		switch k {
		case "username":
			m.Username = v
		case "email":
			m.Email = v
		case "first_name":
			m.FirstName = v
		case "last_name":
			m.LastName = v
		case "phone":
			m.Phone = v
		case "external_id":
			m.ExternalID = v
			m.binaryID = strings.EqualFold(v, "objectGUID")
		case "group_name":
			m.GroupName = v
		case "watermark":
			m.Watermark = v
			m.numericWatermark = strings.EqualFold(v, "uSNChanged")
			m.uniqueWatermark = m.numericWatermark || strings.EqualFold(v, "entryCSN")
		default:
			if k == "manager" {
				k = core.AttrNameManager
			}
			if err := checkMappedKey(k); err != nil {
				return m, fmt.Errorf("attributes.%s: %w", k, err)
			}
			m.extra = maps.Clone(m.extra)
			if m.extra == nil {
				m.extra = map[string]string{}
			}
			m.extra[k] = v
		}
	}
	return m, nil
}

func (m attrMap) userAttributes() []string {
	a := []string{m.Username, m.Email, m.FirstName, m.LastName, m.Phone, m.ExternalID, m.Watermark}
	a = append(a, m.disabledAttrs...)
	for _, k := range slices.Sorted(maps.Keys(m.extra)) {
		if v := m.extra[k]; !slices.ContainsFunc(a, func(x string) bool { return strings.EqualFold(x, v) }) {
			a = append(a, v)
		}
	}
	return a
}

func isTrue(v string) bool { return strings.EqualFold(v, "true") }

// uacDisabled reads AD's userAccountControl: bit 2 (ACCOUNTDISABLE) set.
func uacDisabled(v string) bool {
	if v == "" {
		return false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return err == nil && n&2 != 0
}

// externalID reads the entry's stable id: a string (entryUUID, nsUniqueId)
// or AD's binary objectGUID, formatted as a UUID.
func (m attrMap) externalID(e *ldap.Entry) (string, error) {
	if !m.binaryID {
		return e.GetAttributeValue(m.ExternalID), nil
	}
	raw := e.GetRawAttributeValue(m.ExternalID)
	if len(raw) == 0 {
		return "", nil
	}
	return formatGUID(raw)
}

// formatGUID turns AD's 16-byte objectGUID into its canonical string: the
// first three fields are little-endian, the rest in byte order.
func formatGUID(b []byte) (string, error) {
	if len(b) != 16 {
		return "", fmt.Errorf("objectGUID has %d bytes, want 16", len(b))
	}
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x",
		binary.LittleEndian.Uint32(b[0:4]), binary.LittleEndian.Uint16(b[4:6]), binary.LittleEndian.Uint16(b[6:8]), b[8:10], b[10:16]), nil
}

// laterWatermark returns the later of two watermark values.
func (m attrMap) laterWatermark(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	if m.numericWatermark {
		x, errA := strconv.ParseUint(a, 10, 64)
		y, errB := strconv.ParseUint(b, 10, 64)
		if errA == nil && errB == nil {
			if y > x {
				return b
			}
			return a
		}
	}
	// Generalized time from one server: same format, so the text order is the time order.
	if len(b) > len(a) || (len(b) == len(a) && b > a) {
		return b
	}
	return a
}

// changedSince is the filter part selecting entries changed after watermark
// wm, escaped here, where the filter is built.
func (m attrMap) changedSince(wm string) string {
	if m.uniqueWatermark {
		return "(!(" + m.Watermark + "<=" + ldap.EscapeFilter(wm) + "))"
	}
	return "(" + m.Watermark + ">=" + ldap.EscapeFilter(wm) + ")"
}
