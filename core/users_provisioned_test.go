package core

import "testing"

// TestDirectoryRole: a directory role, clamped to the token's role ceiling.
func TestDirectoryRole(t *testing.T) {
	set := &DirectorySettings{DefaultRole: RoleMember, RoleRules: []RoleRule{
		{Group: "Admins", Role: RoleAdmin}, {Group: "ext-42", Role: RoleUserManager}, {Group: "Devs", Role: RoleDeveloper},
	}}
	owner := &DirectorySettings{DefaultRole: RoleMember, RoleCeiling: RoleOwner}
	low := &DirectorySettings{DefaultRole: RoleMember, RoleCeiling: RoleDeveloper, RoleRules: set.RoleRules}
	for _, tc := range []struct {
		name   string
		set    *DirectorySettings
		base   Role
		roles  []string
		groups []GroupRef
		want   Role
	}{
		{"default", set, "", nil, nil, RoleMember},
		{"explicit role wins over rules", set, RoleUserManager, nil, []GroupRef{{Name: "Admins"}}, RoleUserManager},
		{"explicit owner is clamped to the default ceiling (admin)", set, RoleOwner, nil, nil, RoleAdmin},
		{"explicit owner with an owner ceiling", owner, RoleOwner, nil, nil, RoleOwner},
		{"a roles value naming owner is clamped", set, "", []string{"owner"}, nil, RoleAdmin},
		{"a rule above the ceiling is clamped", low, "", nil, []GroupRef{{Name: "Admins"}}, RoleDeveloper},
		{"a default above the ceiling is clamped", &DirectorySettings{DefaultRole: RoleOwner}, "", nil, nil, RoleAdmin},
		{"group name, case-insensitive", set, "", nil, []GroupRef{{Name: "admins"}}, RoleAdmin},
		{"group external id", set, "", nil, []GroupRef{{Name: "x", ExternalID: "ext-42"}}, RoleUserManager},
		{"first rule wins", set, "", nil, []GroupRef{{Name: "Devs"}, {Name: "Admins"}}, RoleAdmin},
		{"roles value matches a rule", set, "", []string{"devs"}, nil, RoleDeveloper},
		{"roles value naming an org role", set, "", []string{"Developer"}, nil, RoleDeveloper},
		{"rule beats a roles org role", set, "", []string{"developer"}, []GroupRef{{Name: "Admins"}}, RoleAdmin},
		{"custom default", &DirectorySettings{DefaultRole: RoleDeveloper}, "", nil, nil, RoleDeveloper},
		{"invalid default falls back to member", &DirectorySettings{DefaultRole: "x"}, "", nil, nil, RoleMember},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := directoryRole(tc.set, tc.base, tc.roles, tc.groups); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestValidateFilter(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    *Filter
		ok   bool
	}{
		{"eq string", Cmp(AttrUsername, OpEq, "a"), true},
		{"co on bool", Cmp(AttrActive, OpCo, "a"), false},
		{"gt on bool", Cmp(AttrActive, OpGt, true), false},
		{"sw on time", Cmp(AttrCreated, OpSw, "2020"), false},
		{"unknown attribute", Cmp("password_hash", OpEq, "x"), false},
		{"group attribute on users", Cmp(AttrGroupMember, OpEq, "x"), false},
		{"and needs two", &Filter{Kind: FilterAnd, Children: []*Filter{Cmp(AttrID, OpEq, "x")}}, false},
		{"nested", Not(Or(Cmp(AttrID, OpEq, "x"), And(Cmp(AttrActive, OpEq, true), Cmp(AttrCreated, OpGe, "")))), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateFilter(tc.f, UserFilterAttrs)
			if (err == nil) != tc.ok {
				t.Errorf("err %v, want ok=%v", err, tc.ok)
			}
		})
	}
	big := Cmp(AttrID, OpEq, "x")
	for i := 0; i < MaxFilterNodes; i++ {
		big = Or(big, Cmp(AttrID, OpEq, "y"))
	}
	if ValidateFilter(big, UserFilterAttrs) == nil {
		t.Error("an oversized filter was accepted")
	}
}
