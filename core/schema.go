package core

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// The user attribute schema: one table of every attribute roster keeps about
// a user, what it is, where it is stored, who may write it, and how each door
// spells it. Doors map through it (SCIM paths, LDAP attributes per preset,
// API and CSV names, console fields); the store indexes what it marks
// searchable. An organisation's custom metadata fields are rows of the same
// schema (OrgUserSchema).
//
// Adding an attribute is one row in UserSchema: a document attribute needs
// nothing else (a column attribute also needs its column and a User field).

// AttrKind is the type of a user attribute.
type AttrKind string

const (
	KindString    AttrKind = "string"
	KindBoolean   AttrKind = "boolean"
	KindDateTime  AttrKind = "datetime"
	KindReference AttrKind = "reference" // another user's id
	KindMulti     AttrKind = "multi"     // multi-valued: value, type, primary, display (and Parts for complex values)
	KindNumber    AttrKind = "number"    // custom metadata only
)

// Storage says where an attribute lives.
type Storage string

const (
	StoreColumn   Storage = "column"   // a users column (a User field): indexed, sortable
	StoreDocument Storage = "document" // the user's typed attribute document (User.Attributes)
	StoreMetadata Storage = "metadata" // the organisation's custom metadata (User.Metadata)
	StoreDerived  Storage = "derived"  // computed (status, invite status): read only
)

// Attribute describes one user attribute.
type Attribute struct {
	Name  string   `json:"name"`  // API, JSON and CSV name; the key of LDAP attribute maps ("metadata.<field>" for custom fields)
	Label string   `json:"label"` // the console's label
	Kind  AttrKind `json:"type"`
	// Parts are a multi-valued complex attribute's sub-attributes besides
	// type, primary and display (addresses: street_address, locality, …).
	Parts []string `json:"parts,omitempty"`
	// Types are the canonical values of a multi-valued attribute's type
	// (suggested; other values are kept as sent).
	Types   []string `json:"types,omitempty"`
	MaxLen  int      `json:"max_length,omitempty"`
	Storage Storage  `json:"storage"`
	// Directory: a directory (SCIM or LDAP) owns it: admins may not change
	// it on a directory user.
	Directory bool `json:"directory_owned"`
	// AdminWrite: admins may write it (on native users; on directory users
	// only when the directory does not own it).
	AdminWrite bool `json:"admin_writable"`
	Required   bool `json:"required,omitempty"`
	// Search: "name:value" in the admin list and SCIM filters find it through
	// an index; Sort: lists sort by it.
	Search bool `json:"searchable"`
	Sort   bool `json:"sortable"`
	// SCIM is the attribute's SCIM path (core or enterprise User schema), ""
	// when SCIM does not carry it (custom fields travel in roster's extension).
	SCIM string `json:"scim,omitempty"`
	// LDAP is the default directory attribute per preset (openldap, 389ds,
	// ad); a source's attributes map overrides it.
	LDAP map[string]string `json:"ldap,omitempty"`
	// Console: shown as a column of the users list by default.
	Column bool `json:"list_column,omitempty"`
}

// Attribute names of the column attributes, which core logic reads directly.
const (
	AttrNameUsername    = "username"
	AttrNameEmail       = "email"
	AttrNameFirstName   = "first_name"
	AttrNameLastName    = "last_name"
	AttrNamePhone       = "phone"
	AttrNameLanguage    = "language"
	AttrNameExternalID  = "external_id"
	AttrNameDisplayName = "display_name"
	AttrNameManager     = "manager_id"
	AttrNameEmails      = "emails"
	AttrNamePhones      = "phone_numbers"
	AttrNameAddresses   = "addresses"
	AttrNameRoles       = "roles"
)

// The LDAP presets an attribute's defaults are given for.
const (
	PresetOpenLDAP = "openldap"
	Preset389DS    = "389ds"
	PresetAD       = "ad"
)

func ldapAll(attr string) map[string]string {
	return map[string]string{PresetOpenLDAP: attr, Preset389DS: attr, PresetAD: attr}
}

// AddressParts are the sub-attributes of an address (RFC 7643 §4.1.2), by API name.
var AddressParts = []string{"formatted", "street_address", "locality", "region", "postal_code", "country"}

// UserSchema is every attribute roster keeps about a user, in display order.
var UserSchema = []Attribute{
	{Name: AttrNameUsername, Label: "Username", Kind: KindString, MaxLen: MaxUsernameLen, Storage: StoreColumn, Directory: true, AdminWrite: true, Required: true, Search: true, Sort: true,
		SCIM: "userName", LDAP: map[string]string{PresetOpenLDAP: "uid", Preset389DS: "uid", PresetAD: "sAMAccountName"}, Column: true},
	{Name: AttrNameEmail, Label: "Email", Kind: KindString, MaxLen: MaxEmailLen, Storage: StoreColumn, Directory: true, AdminWrite: true, Search: true, Sort: true,
		SCIM: "emails[primary eq true].value", LDAP: ldapAll("mail"), Column: true},
	{Name: AttrNameFirstName, Label: "First name", Kind: KindString, MaxLen: MaxNameLen, Storage: StoreColumn, Directory: true, AdminWrite: true, Search: true, Sort: true,
		SCIM: "name.givenName", LDAP: ldapAll("givenName"), Column: true},
	{Name: "middle_name", Label: "Middle name", Kind: KindString, MaxLen: MaxNameLen, Storage: StoreDocument, Directory: true, AdminWrite: true,
		SCIM: "name.middleName", LDAP: ldapAll("middleName")},
	{Name: AttrNameLastName, Label: "Last name", Kind: KindString, MaxLen: MaxNameLen, Storage: StoreColumn, Directory: true, AdminWrite: true, Search: true, Sort: true,
		SCIM: "name.familyName", LDAP: ldapAll("sn"), Column: true},
	{Name: "honorific_prefix", Label: "Honorific prefix", Kind: KindString, MaxLen: MaxNameLen, Storage: StoreDocument, Directory: true, AdminWrite: true,
		SCIM: "name.honorificPrefix"},
	{Name: "honorific_suffix", Label: "Honorific suffix", Kind: KindString, MaxLen: MaxNameLen, Storage: StoreDocument, Directory: true, AdminWrite: true,
		SCIM: "name.honorificSuffix"},
	{Name: "formatted_name", Label: "Formatted name", Kind: KindString, MaxLen: 2 * MaxNameLen, Storage: StoreDocument, Directory: true, AdminWrite: true,
		SCIM: "name.formatted"},
	{Name: AttrNameDisplayName, Label: "Display name", Kind: KindString, MaxLen: 2 * MaxNameLen, Storage: StoreColumn, Directory: true, AdminWrite: true, Search: true, Sort: true,
		SCIM: "displayName", LDAP: map[string]string{PresetOpenLDAP: "displayName", Preset389DS: "displayName", PresetAD: "displayName"}},
	{Name: "nick_name", Label: "Nickname", Kind: KindString, MaxLen: MaxNameLen, Storage: StoreDocument, Directory: true, AdminWrite: true, Search: true,
		SCIM: "nickName"},
	{Name: "profile_url", Label: "Profile URL", Kind: KindString, MaxLen: 2048, Storage: StoreDocument, Directory: true, AdminWrite: true,
		SCIM: "profileUrl", LDAP: map[string]string{PresetOpenLDAP: "labeledURI", Preset389DS: "labeledURI", PresetAD: "wWWHomePage"}},
	{Name: "title", Label: "Title", Kind: KindString, MaxLen: 2 * MaxNameLen, Storage: StoreDocument, Directory: true, AdminWrite: true, Search: true,
		SCIM: "title", LDAP: ldapAll("title")},
	{Name: "user_type", Label: "User type", Kind: KindString, MaxLen: MaxNameLen, Storage: StoreDocument, Directory: true, AdminWrite: true, Search: true,
		SCIM: "userType", LDAP: map[string]string{PresetOpenLDAP: "employeeType", Preset389DS: "employeeType"}},
	{Name: AttrNameLanguage, Label: "Language", Kind: KindString, MaxLen: 35, Storage: StoreColumn, Directory: true, AdminWrite: true,
		SCIM: "preferredLanguage", LDAP: ldapAll("preferredLanguage")},
	{Name: "locale", Label: "Locale", Kind: KindString, MaxLen: 35, Storage: StoreDocument, Directory: true, AdminWrite: true,
		SCIM: "locale"},
	{Name: "timezone", Label: "Time zone", Kind: KindString, MaxLen: 64, Storage: StoreDocument, Directory: true, AdminWrite: true,
		SCIM: "timezone"},
	{Name: AttrNamePhone, Label: "Phone", Kind: KindString, MaxLen: MaxPhoneLen, Storage: StoreColumn, Directory: true, AdminWrite: true, Search: true,
		SCIM: "phoneNumbers[primary eq true].value", LDAP: ldapAll("telephoneNumber"), Column: true},
	{Name: AttrNameEmails, Label: "Emails", Kind: KindMulti, Types: []string{"work", "home", "other"}, MaxLen: MaxEmailLen, Storage: StoreDocument, Directory: true, AdminWrite: true, Search: true,
		SCIM: "emails"},
	{Name: AttrNamePhones, Label: "Phone numbers", Kind: KindMulti, Types: []string{"work", "home", "mobile", "fax", "pager", "other"}, MaxLen: MaxPhoneLen, Storage: StoreDocument, Directory: true, AdminWrite: true, Search: true,
		SCIM: "phoneNumbers", LDAP: map[string]string{PresetOpenLDAP: "", Preset389DS: "", PresetAD: ""}},
	{Name: AttrNameAddresses, Label: "Addresses", Kind: KindMulti, Parts: AddressParts, Types: []string{"work", "home", "other"}, MaxLen: 2 * MaxNameLen, Storage: StoreDocument, Directory: true, AdminWrite: true, Search: true,
		SCIM: "addresses"},
	{Name: "employee_number", Label: "Employee number", Kind: KindString, MaxLen: MaxNameLen, Storage: StoreDocument, Directory: true, AdminWrite: true, Search: true,
		SCIM: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", LDAP: map[string]string{PresetOpenLDAP: "employeeNumber", Preset389DS: "employeeNumber", PresetAD: "employeeID"}},
	{Name: "cost_center", Label: "Cost center", Kind: KindString, MaxLen: MaxNameLen, Storage: StoreDocument, Directory: true, AdminWrite: true, Search: true,
		SCIM: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter"},
	{Name: "organization", Label: "Organization", Kind: KindString, MaxLen: 2 * MaxNameLen, Storage: StoreDocument, Directory: true, AdminWrite: true, Search: true,
		SCIM: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization", LDAP: map[string]string{PresetOpenLDAP: "o", Preset389DS: "o", PresetAD: "company"}},
	{Name: "division", Label: "Division", Kind: KindString, MaxLen: 2 * MaxNameLen, Storage: StoreDocument, Directory: true, AdminWrite: true, Search: true,
		SCIM: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division", LDAP: map[string]string{PresetAD: "division"}},
	{Name: "department", Label: "Department", Kind: KindString, MaxLen: 2 * MaxNameLen, Storage: StoreDocument, Directory: true, AdminWrite: true, Search: true,
		SCIM: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", LDAP: map[string]string{PresetOpenLDAP: "departmentNumber", Preset389DS: "departmentNumber", PresetAD: "department"}},
	{Name: AttrNameManager, Label: "Manager", Kind: KindReference, Storage: StoreColumn, Directory: true, AdminWrite: true,
		SCIM: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", LDAP: ldapAll("manager")},
	{Name: AttrNameRoles, Label: "Directory roles", Kind: KindMulti, MaxLen: MaxNameLen, Storage: StoreDocument, Directory: true, Search: true,
		SCIM: "roles"},
	{Name: AttrNameExternalID, Label: "External id", Kind: KindString, MaxLen: MaxExternalID, Storage: StoreColumn, Directory: true, AdminWrite: true, Search: true,
		SCIM: "externalId"},
	{Name: "role", Label: "Role", Kind: KindString, Storage: StoreColumn, AdminWrite: true, Sort: true, SCIM: "urn:ietf:params:scim:schemas:extension:roster:2.0:User:role", Column: true},
	{Name: "can_create_apps", Label: "Can create apps", Kind: KindBoolean, Storage: StoreColumn, AdminWrite: true,
		SCIM: "urn:ietf:params:scim:schemas:extension:roster:2.0:User:canCreateApps"},
	{Name: "status", Label: "Status", Kind: KindString, Storage: StoreDerived, Sort: true, SCIM: "active", Column: true},
	{Name: "invite_status", Label: "Invite status", Kind: KindString, Storage: StoreDerived, Sort: true, Column: true},
	{Name: "source", Label: "Source", Kind: KindString, Storage: StoreColumn},
	{Name: "created_at", Label: "Created", Kind: KindDateTime, Storage: StoreColumn, Sort: true, SCIM: "meta.created"},
	{Name: "last_login_at", Label: "Last login", Kind: KindDateTime, Storage: StoreColumn},
}

// Limits of the multi-valued attributes.
const (
	MaxMultiValues = 16 // values per multi-valued attribute
	MaxPartLen     = 2 * MaxNameLen
)

var schemaByName = func() map[string]*Attribute {
	m := make(map[string]*Attribute, len(UserSchema))
	for i := range UserSchema {
		m[UserSchema[i].Name] = &UserSchema[i]
	}
	return m
}()

// SchemaAttribute looks up a standard attribute by its API name.
func SchemaAttribute(name string) (*Attribute, bool) {
	a, ok := schemaByName[name]
	return a, ok
}

// DocumentAttributes are the schema's document attributes, in schema order.
func DocumentAttributes() []*Attribute {
	var out []*Attribute
	for i := range UserSchema {
		if UserSchema[i].Storage == StoreDocument {
			out = append(out, &UserSchema[i])
		}
	}
	return out
}

// MetadataPrefix prefixes a custom field's name where it shares a namespace
// with the standard attributes (LDAP attribute maps, the search index).
const MetadataPrefix = "metadata."

// OrgUserSchema is the schema of an organisation's users: the standard
// attributes, then one row per custom metadata field.
func OrgUserSchema(tpl []MetadataField) []Attribute {
	out := slices.Clone(UserSchema)
	for _, f := range tpl {
		k := KindString
		switch f.Type {
		case MetaNumber:
			k = KindNumber
		case MetaBoolean:
			k = KindBoolean
		case MetaDate:
			k = KindDateTime
		}
		label := f.Label
		if label == "" {
			label = f.Name
		}
		out = append(out, Attribute{Name: MetadataPrefix + f.Name, Label: label, Kind: k, MaxLen: MaxMetaValue, Storage: StoreMetadata,
			AdminWrite: true, Required: f.Required, Search: true, SCIM: URNRosterUser + ":metadata[name eq \"" + f.Name + "\"].value", Column: true})
	}
	return out
}

// URNRosterUser is roster's SCIM extension schema for users.
const URNRosterUser = "urn:ietf:params:scim:schemas:extension:roster:2.0:User"

// MultiValue is one value of a multi-valued attribute (RFC 7643 §2.4):
// value, type, primary and display, and a complex value's parts (an
// address's street_address, locality, …).
type MultiValue struct {
	Value   string            `json:"value,omitempty"`
	Type    string            `json:"type,omitempty"`
	Primary bool              `json:"primary,omitempty"`
	Display string            `json:"display,omitempty"`
	Parts   map[string]string `json:"parts,omitempty"`
}

// Attributes is a user's typed attribute document: the schema's document
// attributes by API name, each a string or a list of MultiValues. Empty
// values are not kept.
type Attributes map[string]AttrValue

// AttrValue is one document attribute's value.
type AttrValue struct {
	Str  string
	List []MultiValue
}

// MarshalJSON writes a string or a list.
func (v AttrValue) MarshalJSON() ([]byte, error) {
	if v.List != nil {
		return json.Marshal(v.List)
	}
	return json.Marshal(v.Str)
}

// UnmarshalJSON reads a string or a list.
func (v *AttrValue) UnmarshalJSON(b []byte) error {
	*v = AttrValue{}
	if len(b) > 0 && b[0] == '[' {
		return json.Unmarshal(b, &v.List)
	}
	return json.Unmarshal(b, &v.Str)
}

// Text is the value as one line of text: a string as is; a list as its
// values (or an address's parts), each with its type, and "primary".
func (v AttrValue) Text() string {
	if v.List == nil {
		return v.Str
	}
	parts := make([]string, 0, len(v.List))
	for _, mv := range v.List {
		t := mv.Value
		if t == "" {
			var ps []string
			for _, k := range AddressParts {
				if mv.Parts[k] != "" {
					ps = append(ps, mv.Parts[k])
				}
			}
			t = strings.Join(ps, ", ")
		}
		var tags []string
		if mv.Type != "" {
			tags = append(tags, mv.Type)
		}
		if mv.Primary {
			tags = append(tags, "primary")
		}
		if len(tags) > 0 {
			t += " (" + strings.Join(tags, ", ") + ")"
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, "; ")
}

// Str is a string attribute's value ("" when unset).
func (a Attributes) Str(name string) string { return a[name].Str }

// List is a multi-valued attribute's values (nil when unset).
func (a Attributes) List(name string) []MultiValue { return a[name].List }

// Primary is the primary value of a multi-valued attribute, else its first
// of type work, else its first.
func (a Attributes) Primary(name string) string {
	l := a[name].List
	for _, v := range l {
		if v.Primary {
			return v.Value
		}
	}
	for _, v := range l {
		if strings.EqualFold(v.Type, "work") {
			return v.Value
		}
	}
	if len(l) > 0 {
		return l[0].Value
	}
	return ""
}

// SetStr sets (or, with "", removes) a string attribute.
func (a *Attributes) SetStr(name, v string) {
	v = strings.TrimSpace(v)
	if v == "" {
		delete(*a, name)
		return
	}
	if *a == nil {
		*a = Attributes{}
	}
	(*a)[name] = AttrValue{Str: v}
}

// SetList sets (or, with no values, removes) a multi-valued attribute.
func (a *Attributes) SetList(name string, vs []MultiValue) {
	if len(vs) == 0 {
		delete(*a, name)
		return
	}
	if *a == nil {
		*a = Attributes{}
	}
	(*a)[name] = AttrValue{List: vs}
}

// Clone is a deep copy.
func (a Attributes) Clone() Attributes {
	if a == nil {
		return nil
	}
	out := make(Attributes, len(a))
	for k, v := range a {
		if v.List != nil {
			l := make([]MultiValue, len(v.List))
			for i, mv := range v.List {
				l[i] = mv
				if mv.Parts != nil {
					l[i].Parts = make(map[string]string, len(mv.Parts))
					for pk, pv := range mv.Parts {
						l[i].Parts[pk] = pv
					}
				}
			}
			v.List = l
		}
		out[k] = v
	}
	return out
}

// normalizeAttributes trims every value, drops empty ones, and checks each
// against the schema; problems name the attribute by its API name.
func normalizeAttributes(p *problems, a Attributes) Attributes {
	if len(a) == 0 {
		return nil
	}
	out := Attributes{}
	names := make([]string, 0, len(a))
	for k := range a {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		v := a[name]
		def, ok := schemaByName[name]
		if !ok || def.Storage != StoreDocument {
			p.add(name, "is not a user attribute roster keeps in the attribute document")
			continue
		}
		if def.Kind != KindMulti {
			if v.List != nil {
				p.add(name, "takes one value, not a list")
				continue
			}
			checkText(p, name, strings.TrimSpace(v.Str), def.MaxLen)
			out.SetStr(name, v.Str)
			continue
		}
		if v.List == nil && v.Str != "" {
			p.add(name, "takes a list of values, not a string")
			continue
		}
		if len(v.List) > MaxMultiValues {
			p.add(name, "at most %d values are allowed", MaxMultiValues)
			continue
		}
		var l []MultiValue
		primaries := 0
		for i, mv := range v.List {
			f := fmt.Sprintf("%s[%d]", name, i)
			mv.Value = strings.TrimSpace(mv.Value)
			mv.Type = strings.TrimSpace(mv.Type)
			mv.Display = strings.TrimSpace(mv.Display)
			checkText(p, f+".value", mv.Value, def.MaxLen)
			checkText(p, f+".type", mv.Type, MaxNameLen)
			checkText(p, f+".display", mv.Display, MaxNameLen*2)
			var parts map[string]string
			for pk, pv := range mv.Parts {
				if !slices.Contains(def.Parts, pk) {
					p.add(f+"."+pk, "is not a part of %s (parts: %s)", name, strings.Join(def.Parts, ", "))
					continue
				}
				pv = strings.TrimSpace(pv)
				checkText(p, f+"."+pk, pv, MaxPartLen)
				if pv != "" {
					if parts == nil {
						parts = map[string]string{}
					}
					parts[pk] = pv
				}
			}
			mv.Parts = parts
			if mv.Value == "" && len(mv.Parts) == 0 {
				continue // an empty value is no value
			}
			if mv.Primary {
				primaries++
			}
			l = append(l, mv)
		}
		if primaries > 1 {
			p.add(name, "at most one value may be primary")
		}
		out.SetList(name, l)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// SearchFields are the fields of the search index: each searchable
// document attribute by name, a multi-valued one as name.value, name.type
// and name.<part>. (Custom fields add MetadataPrefix + name.)
func SearchFields() []string {
	var out []string
	for _, def := range DocumentAttributes() {
		if !def.Search {
			continue
		}
		if def.Kind != KindMulti {
			out = append(out, def.Name)
			continue
		}
		out = append(out, def.Name+".value", def.Name+".type")
		for _, part := range def.Parts {
			out = append(out, def.Name+"."+part)
		}
	}
	return out
}

// SearchKeys are the folded values of a user's searchable attributes that
// are not columns: what the store's search index holds (field, folded value),
// for "name:value" searches and SCIM filters. Custom metadata fields are
// under MetadataPrefix + name.
func SearchKeys(u *User) [][2]string {
	var out [][2]string
	add := func(field, v string) {
		if k := FoldKey(v); k != "" {
			out = append(out, [2]string{field, k})
		}
	}
	for _, def := range DocumentAttributes() {
		if !def.Search {
			continue
		}
		v := u.Attributes[def.Name]
		if def.Kind != KindMulti {
			add(def.Name, v.Str)
			continue
		}
		for _, mv := range v.List {
			add(def.Name+".value", mv.Value)
			add(def.Name+".type", mv.Type)
			for _, part := range def.Parts {
				add(def.Name+"."+part, mv.Parts[part])
			}
		}
	}
	for k, v := range u.Metadata {
		add(MetadataPrefix+k, v)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i][0] != out[j][0] {
			return out[i][0] < out[j][0]
		}
		return out[i][1] < out[j][1]
	})
	return slices.Compact(out)
}
