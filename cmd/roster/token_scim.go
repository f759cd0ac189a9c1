package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/rosterhq/roster/core"
)

// scimFlags are the per-token SCIM settings of `roster token create --scope scim`.
type scimFlags struct {
	invite      *bool
	defaultRole *string
	ceiling     *string
	rules       roleRules
}

type roleRules []core.RoleRule

func (r *roleRules) String() string { return fmt.Sprint(*r) }

func (r *roleRules) Set(v string) error {
	group, role, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(group) == "" {
		return fmt.Errorf("%q is not GROUP=ROLE", v)
	}
	*r = append(*r, core.RoleRule{Group: strings.TrimSpace(group), Role: core.Role(strings.TrimSpace(role))})
	return nil
}

func scimTokenFlags(fs *flag.FlagSet) *scimFlags {
	f := &scimFlags{
		invite:      fs.Bool("invite", true, "scim: invite new users by mail (false: they start active)"),
		defaultRole: fs.String("default-role", string(core.RoleMember), "scim: org role when neither the IdP nor a role rule names one"),
		ceiling:     fs.String("role-ceiling", string(core.DefaultRoleCeiling), "scim: the highest org role the token grants (roles, roster's extension, role rules and the default are clamped to it); owner only when asked for"),
	}
	fs.Var(&f.rules, "role-rule", "scim: GROUP=ROLE, a SCIM group (name, id or external id) or roles value mapped to an org role; repeatable, first match wins")
	return f
}

// validate checks the flags before the token is created.
func (f *scimFlags) validate() error {
	if !core.Role(*f.ceiling).Valid() {
		return fmt.Errorf("--role-ceiling: %q is not one of owner, admin, user_manager, developer, member", *f.ceiling)
	}
	if !core.Role(*f.defaultRole).Valid() {
		return fmt.Errorf("--default-role: %q is not one of owner, admin, user_manager, developer, member", *f.defaultRole)
	}
	for _, r := range f.rules {
		if !r.Role.Valid() {
			return fmt.Errorf("--role-rule %s=%s: not one of owner, admin, user_manager, developer, member", r.Group, r.Role)
		}
	}
	set := f.settings()
	if err := core.CheckDirectorySettings(&set, core.Role(*f.ceiling)); err != nil {
		return fmt.Errorf("%w (raise --role-ceiling to grant it)", err)
	}
	return nil
}

// settings are the token's SCIM settings, stored with the token.
func (f *scimFlags) settings() core.DirectorySettings {
	return core.DirectorySettings{Invite: *f.invite, DefaultRole: core.Role(*f.defaultRole), RoleRules: f.rules}
}
