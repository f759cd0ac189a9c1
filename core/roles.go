package core

// RoleRule maps a directory group to an org role. The same rules serve LDAP
// (group DNs) and SCIM (group display names or ids).
type RoleRule struct {
	Group string
	Role  Role
}

// ResolveRole applies role rules: the first rule whose group the user is in
// wins; otherwise the default role. inGroup decides membership, so each door
// compares group names its own way (LDAP: normalised DNs; SCIM: names).
func ResolveRole(rules []RoleRule, def Role, inGroup func(group string) bool) Role {
	for _, r := range rules {
		if inGroup(r.Group) {
			return r.Role
		}
	}
	return def
}
