package ldapsync

import (
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster/core"
)

// A source's attributes map names, besides the keys of overridable, any
// attribute of the user schema by its API name (title, department,
// display_name, manager_id), a typed value of a multi-valued one
// (phone_numbers.mobile, emails.home: every value of the directory
// attribute, with that type), a part of an address of a type
// (addresses.work.locality), or a custom field (metadata.office). The
// presets' defaults come from the schema's LDAP column (core.UserSchema)
// and, for the typed values, from multiDefaults below.

// multiDefaults are the presets' defaults for typed values of multi-valued
// attributes (the schema's LDAP column holds one attribute per row).
var multiDefaults = map[string]map[string]string{
	core.PresetOpenLDAP: {"phone_numbers.mobile": "mobile", "addresses.work.street_address": "street", "addresses.work.locality": "l",
		"addresses.work.region": "st", "addresses.work.postal_code": "postalCode"},
	core.Preset389DS: {"phone_numbers.mobile": "mobile", "addresses.work.street_address": "street", "addresses.work.locality": "l",
		"addresses.work.region": "st", "addresses.work.postal_code": "postalCode"},
	core.PresetAD: {"phone_numbers.mobile": "mobile", "addresses.work.street_address": "streetAddress", "addresses.work.locality": "l",
		"addresses.work.region": "st", "addresses.work.postal_code": "postalCode", "addresses.work.country": "c"},
}

// notDefaulted are schema attributes with an LDAP default that no preset
// maps unless the source says so: the five (and the external id) have keys
// of their own, and a directory's preferredLanguage is often not a
// language tag roster accepts, so it would refuse users it now takes.
var notDefaulted = []string{core.AttrNameUsername, core.AttrNameEmail, core.AttrNameFirstName, core.AttrNameLastName,
	core.AttrNamePhone, core.AttrNameExternalID, core.AttrNameLanguage}

// schemaPreset is the schema's name of a source's preset.
func schemaPreset(preset string) string {
	if preset == "active_directory" {
		return core.PresetAD
	}
	return preset
}

// presetExtra is a preset's default attributes map beyond the five.
func presetExtra(preset string) map[string]string {
	p := schemaPreset(preset)
	if p == "" {
		p = core.PresetOpenLDAP
	}
	out := map[string]string{}
	for _, a := range core.UserSchema {
		if v := a.LDAP[p]; v != "" && a.Kind != core.KindMulti && !slices.Contains(notDefaulted, a.Name) && core.CheckOwnedAttribute(a.Name) {
			out[a.Name] = v
		}
	}
	maps.Copy(out, multiDefaults[p])
	return out
}

var typeRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

var errNotAttribute = errors.New("not a user attribute: use a schema attribute's API name (title, department, display_name, manager_id, …), " +
	"a typed value (phone_numbers.mobile, emails.home, addresses.work.locality) or metadata.<field>")

// target is where one directory attribute goes.
type target struct {
	key  string // the attributes map's key
	attr string // the directory attribute
	name string // the schema attribute (or custom field) it writes
	typ  string // a multi-valued attribute's type
	part string // an address part
}

// parseMappedKey reads one attributes-map key that is not an overridable one.
func parseMappedKey(k string) (target, error) {
	if k == "manager" {
		k = core.AttrNameManager
	}
	t := target{key: k, name: k}
	if f, ok := strings.CutPrefix(k, core.MetadataPrefix); ok {
		if !core.CheckOwnedAttribute(k) {
			return t, errors.New("metadata." + f + ": a custom field's name starts with a letter and holds only letters, digits and _")
		}
		return t, nil
	}
	parts := strings.Split(k, ".")
	def, ok := core.SchemaAttribute(parts[0])
	if !ok || !core.CheckOwnedAttribute(parts[0]) || parts[0] == core.AttrNameRoles {
		return t, errNotAttribute
	}
	t.name = parts[0]
	switch {
	case def.Kind != core.KindMulti && len(parts) == 1:
		return t, nil
	case def.Kind == core.KindMulti && len(def.Parts) == 0 && len(parts) == 2 && typeRE.MatchString(parts[1]):
		t.typ = parts[1]
		return t, nil
	case def.Kind == core.KindMulti && len(def.Parts) > 0 && len(parts) == 3 && typeRE.MatchString(parts[1]) && slices.Contains(def.Parts, parts[2]):
		t.typ, t.part = parts[1], parts[2]
		return t, nil
	case def.Kind == core.KindMulti && len(def.Parts) > 0:
		return t, errors.New("an address part is addressed as " + def.Name + ".<type>.<part>, parts: " + strings.Join(def.Parts, ", "))
	case def.Kind == core.KindMulti:
		return t, errors.New("a value of " + def.Name + " is addressed with its type, such as " + def.Name + ".work")
	}
	return t, errNotAttribute
}

// checkMappedKey is parseMappedKey's verdict.
func checkMappedKey(k string) error {
	_, err := parseMappedKey(k)
	return err
}

// targets are the extra mappings, by key (keys already checked).
func (m attrMap) targets() []target {
	out := make([]target, 0, len(m.extra))
	for _, k := range slices.Sorted(maps.Keys(m.extra)) {
		t, err := parseMappedKey(k)
		if err != nil {
			continue
		}
		t.attr = m.extra[k]
		out = append(out, t)
	}
	return out
}

// owned are the attributes the source writes beyond the five, sorted.
func owned(ts []target) []string {
	var out []string
	for _, t := range ts {
		if !slices.Contains(out, t.name) {
			out = append(out, t.name)
		}
	}
	slices.Sort(out)
	return out
}

// mapExtra fills u's attributes beyond the five from entry e; it returns
// the manager's DN, which the reader resolves once every entry is read.
func mapExtra(ts []target, e *ldap.Entry, u *core.SyncEntry) (managerDN string) {
	var addrs []core.MultiValue
	for _, t := range ts {
		switch {
		case t.name == core.AttrNameManager:
			managerDN = e.GetAttributeValue(t.attr)
		case t.name == core.AttrNameDisplayName:
			if v := e.GetAttributeValue(t.attr); v != "" {
				u.X().DisplayName = v
			}
		case t.name == core.AttrNameLanguage:
			if v := e.GetAttributeValue(t.attr); v != "" {
				u.X().Language = v
			}
		case strings.HasPrefix(t.name, core.MetadataPrefix):
			if v := e.GetAttributeValue(t.attr); v != "" {
				x := u.X()
				if x.Metadata == nil {
					x.Metadata = map[string]string{}
				}
				x.Metadata[strings.TrimPrefix(t.name, core.MetadataPrefix)] = v
			}
		case t.part != "":
			v := e.GetAttributeValue(t.attr)
			if v == "" {
				continue
			}
			i := slices.IndexFunc(addrs, func(a core.MultiValue) bool { return a.Type == t.typ })
			if i < 0 {
				addrs = append(addrs, core.MultiValue{Type: t.typ, Parts: map[string]string{}})
				i = len(addrs) - 1
			}
			addrs[i].Parts[t.part] = v
		case t.typ != "":
			vs := e.GetAttributeValues(t.attr)
			if len(vs) == 0 {
				continue
			}
			x := u.X()
			l := x.Attributes.List(t.name)
			if len(l) == 0 {
				// The primary value is the one of the five (mail, telephoneNumber).
				primary := u.Email
				if t.name == core.AttrNamePhones {
					primary = u.Phone
				}
				if primary != "" {
					l = append(l, core.MultiValue{Value: primary, Type: "work", Primary: true})
				}
			}
			for _, v := range vs {
				l = append(l, core.MultiValue{Value: v, Type: t.typ})
			}
			x.Attributes.SetList(t.name, l)
		default:
			if v := e.GetAttributeValue(t.attr); v != "" {
				u.X().Attributes.SetStr(t.name, v)
			}
		}
	}
	if len(addrs) > 0 {
		u.X().Attributes.SetList(core.AttrNameAddresses, addrs)
	}
	return managerDN
}
