package core

import (
	"fmt"
	"maps"
	"strings"
)

// The one constructor and the one set of rules for a user's attributes.
// Every door builds a new user with constructUser (the admin API, the CLI and
// import through prepareUser, SCIM through CreateDirectoryUser, the LDAP sync
// through newDirectoryUser), and every update runs normalizeUser and
// validateUserFields before it is written: the doors differ only in the
// policy fields of userSpec (source, role, invite mode) and in which
// attributes they may change (UpdateUser's rules for admins).

// userSpec is what a new user is built from.
type userSpec struct {
	OrgID, Source                                         string
	Username, Email, FirstName, LastName, Phone, Language string
	ExternalID, DisplayName, ManagerID                    string
	Attributes                                            Attributes
	Metadata                                              map[string]string
	Role                                                  Role // the resolved role (after ceilings and rules)
	BaseRole                                              Role // the role a directory asked for explicitly
	CanCreateApps                                         bool
}

// constructUser builds a new user from spec under the rules every door
// shares; problems name the attribute by its API name (doors translate).
func (s *Service) constructUser(sp userSpec) (*User, error) {
	now := s.now()
	u := &User{
		ID: newID(), OrgID: sp.OrgID, Username: sp.Username, Email: sp.Email, FirstName: sp.FirstName, LastName: sp.LastName,
		Phone: sp.Phone, Language: sp.Language, Role: sp.Role, BaseRole: sp.BaseRole, CanCreateApps: sp.CanCreateApps,
		Source: sp.Source, ExternalID: sp.ExternalID, DisplayName: sp.DisplayName, ManagerID: sp.ManagerID,
		Attributes: sp.Attributes.Clone(), Metadata: sp.Metadata, InviteState: InviteStateNone, CreatedAt: now, UpdatedAt: now,
	}
	var p problems
	normalizeUser(&p, u)
	if u.BaseRole != "" && !u.BaseRole.Valid() {
		p.add("role", "%q is not one of owner, admin, user_manager, developer, member", u.BaseRole)
	}
	validateUserFields(&p, u)
	if err := p.err(); err != nil {
		return nil, err
	}
	return u, nil
}

// normalizeUser trims every attribute, checks the document attributes
// against the schema, and keeps the primary email and phone (columns: unique,
// indexed, what mail goes to) in step with the emails and phone_numbers lists
// (every value as sent, with its type and primary flag).
func normalizeUser(p *problems, u *User) {
	for _, f := range []*string{&u.Username, &u.Email, &u.FirstName, &u.LastName, &u.Phone, &u.ExternalID, &u.DisplayName, &u.ManagerID} {
		*f = strings.TrimSpace(*f)
	}
	u.Language = strings.TrimSpace(u.Language)
	u.Attributes = normalizeAttributes(p, u.Attributes)
	for i, v := range u.Attributes.List(AttrNameEmails) {
		if v.Value != "" {
			var q problems
			checkEmail(&q, v.Value)
			if q.err() != nil {
				p.add(fmt.Sprintf("%s[%d].value", AttrNameEmails, i), "%q is not an email address", v.Value)
			}
		}
	}
	if l := u.Attributes.List(AttrNameEmails); len(l) > 0 {
		u.Email = u.Attributes.Primary(AttrNameEmails)
	}
	if l := u.Attributes.List(AttrNamePhones); len(l) > 0 {
		u.Phone = u.Attributes.Primary(AttrNamePhones)
	}
	if u.DisplayName != "" {
		checkText(p, AttrNameDisplayName, u.DisplayName, 2*MaxNameLen)
	}
	checkText(p, AttrNameManager, u.ManagerID, MaxExternalID)
	if len(directoryRoles(u.Attributes)) > 64 {
		p.add(AttrNameRoles, "at most 64 roles are allowed")
	}
}

// setPrimary makes v the primary (or first) value of a multi-valued
// attribute when it has values: an admin's change of the primary email or
// phone changes the list too.
func setPrimary(a Attributes, name, v string) {
	l := a.List(name)
	if len(l) == 0 {
		return
	}
	l = append([]MultiValue(nil), l...)
	i := 0
	for k := range l {
		if l[k].Primary {
			i = k
		}
	}
	if v == "" {
		l = append(l[:i], l[i+1:]...)
	} else {
		l[i].Value = v
	}
	a.SetList(name, l)
}

// cloneUser is a deep copy (before-images for history).
func cloneUser(u *User) *User {
	c := *u
	c.Metadata = maps.Clone(u.Metadata)
	c.Attributes = u.Attributes.Clone()
	return &c
}
