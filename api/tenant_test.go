package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/mux"

	"github.com/rosterhq/roster/api"
	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/server"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/testkit/rostertest"
	"github.com/rosterhq/roster/scim"
)

// fakeLDAP holds one on-demand source, "victim-ldap", of one organisation
// and records the organisation every call was made for.
type fakeLDAP struct {
	owner string
	mu    sync.Mutex
	orgs  []string
}

func (l *fakeLDAP) seen(org string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.orgs = append(l.orgs, org)
}

func (l *fakeLDAP) Names(orgID string) []string {
	l.seen(orgID)
	if orgID == l.owner {
		return []string{"victim-ldap"}
	}
	return nil
}

func (l *fakeLDAP) SyncNow(_ context.Context, orgID, source string, _, _ bool) (any, error) {
	l.seen(orgID)
	if orgID != l.owner || source != "victim-ldap" {
		return nil, fmt.Errorf("ldap source %q: %w", source, core.ErrNotFound)
	}
	return map[string]any{"source": "victim-ldap"}, nil
}

func (l *fakeLDAP) Import(_ context.Context, orgID, source, _ string) (*core.UserView, error) {
	l.seen(orgID)
	return nil, fmt.Errorf("ldap source %q: %w", source, core.ErrNotFound)
}

func (l *fakeLDAP) Search(_ context.Context, orgID, source, _ string, _ int) ([]api.DirectoryEntry, error) {
	l.seen(orgID)
	if orgID != l.owner || source != "victim-ldap" {
		return nil, fmt.Errorf("ldap source %q: %w", source, core.ErrNotFound)
	}
	return []api.DirectoryEntry{{Username: "victim-directory-user"}}, nil
}

// tenantEnv is the daemon's router with both doors (admin API and SCIM)
// mounted, one organisation "default" (A, the attacker) and one "victim" (B).
type tenantEnv struct {
	*fixture
	router  *mux.Router
	handler http.Handler
	dbPath  string
	ldap    *fakeLDAP
	// bInviteToken is the invitation secret of bInvited.
	bInviteToken string
	bOrg         string
	// B's objects.
	bOwnerTok, bSCIMTok                            string
	bUser, bInvited, bSCIMUser, bGroup, bSCIMGroup string
	bApp, bToken                                   string
	// A's own objects and credentials.
	aAdminTok, aSCIMTok, aGroup, aApp, aSCIMGroup string
}

const victimPW = "Victim-passphrase-99"

func newTenantEnv(t *testing.T) *tenantEnv {
	return newTenantEnvWith(t, rostertest.Hasher)
}

func newTenantEnvWith(t *testing.T, hasher core.PasswordHasher) *tenantEnv {
	t.Helper()
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "tenants.db")
	st, err := store.Open(ctx, store.Options{Driver: "sqlite", DSN: dbPath}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc, err := core.NewService(core.Config{}, core.Deps{Store: st, Hasher: hasher})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	srv := server.New(server.Config{}, st.Ready, log)
	fl := &fakeLDAP{}
	a, err := api.New(api.Config{MailPreview: mailPreview(t, svc), MailBuiltin: mailBuiltin(t), LoginRatePerMinute: 100000, PublicURL: "https://roster.example.com", LDAP: fl}, svc, log)
	if err != nil {
		t.Fatal(err)
	}
	a.Mount(srv.Router())
	sh, err := scim.New(scim.Config{AuthCacheTTL: -1}, svc, log)
	if err != nil {
		t.Fatal(err)
	}
	sh.Mount(srv.Router())
	hs := serveValidated(t, srv.Handler())
	o, _ := svc.Org(ctx, core.DefaultOrg)
	e := &tenantEnv{fixture: &fixture{t: t, srv: hs, svc: svc, org: o.ID, ctx: ctx}, router: srv.Router(), handler: srv.Handler(), dbPath: dbPath, ldap: fl}
	if _, err := svc.CreateUser(ctx, core.CLIActor(), core.NewUser{OrgID: o.ID, Username: "owner@example.com", Email: "owner@example.com", Role: core.RoleOwner, Invite: core.NoInvite, Password: ownerPW}); err != nil {
		t.Fatal(err)
	}
	e.owner = e.login("owner@example.com", ownerPW, "console")

	// B: the victim organisation, built through its own doors.
	b, err := svc.CreateOrg(ctx, core.CLIActor(), "victim", "Victim Inc")
	if err != nil {
		t.Fatal(err)
	}
	e.bOrg, fl.owner = b.ID, b.ID
	mk := func(name string, role core.Role, inv core.InviteMode, pw string) string {
		c, err := svc.CreateUser(ctx, core.CLIActor(), core.NewUser{OrgID: b.ID, Username: name, Email: name, FirstName: "Victim", LastName: "Person", Role: role, Invite: inv, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		if c.InviteToken != "" {
			e.bInviteToken = c.InviteToken
		}
		return c.User.ID
	}
	mk("victim-owner@b.example", core.RoleOwner, core.NoInvite, victimPW)
	e.bUser = mk("victim-user@b.example", core.RoleMember, core.NoInvite, victimPW)
	e.bInvited = mk("victim-invited@b.example", core.RoleMember, core.InviteByLink, "")
	r := e.do(nil, "POST", "/api/v1/auth/login", "", map[string]any{"org": "victim", "username": "victim-owner@b.example", "password": victimPW})
	if r.code != 200 {
		t.Fatalf("victim login: %d %s", r.code, r.raw)
	}
	e.bOwnerTok = r.body["token"].(string)
	e.bGroup = e.mustID(e.bOwnerTok, "POST", "/api/v1/groups", map[string]any{"name": "victim-group"})
	e.must2xx(e.bOwnerTok, "POST", "/api/v1/groups/"+e.bGroup+"/members", map[string]any{"user_ids": []string{e.bUser}})
	e.bApp = e.mustID(e.bOwnerTok, "POST", "/api/v1/apps", map[string]any{"name": "victim-app"})
	e.must2xx(e.bOwnerTok, "POST", "/api/v1/apps/"+e.bApp+"/assignments", map[string]any{"user_id": e.bUser})
	e.bToken = e.mustID(e.bOwnerTok, "POST", "/api/v1/tokens", map[string]any{"name": "victim-token", "scope": "scim"})
	e.must2xx(e.bOwnerTok, "PUT", "/api/v1/org/mail-templates/invite/fr", map[string]any{"subject": "victim subject {{.FirstName}}"})
	// B's custom field: its name would show in A's metadata template or user schema if they leaked.
	e.must2xx(e.bOwnerTok, "PUT", "/api/v1/org/metadata-template", map[string]any{"fields": []map[string]any{{"name": "victim_field", "type": "string"}}})
	e.bSCIMTok = e.scimToken(b.ID, "victim-okta")
	e.bSCIMUser = e.mustID(e.bSCIMTok, "POST", "/scim/v2/Users", scimUser("victim-scim@b.example"))
	e.bSCIMGroup = e.mustID(e.bSCIMTok, "POST", "/scim/v2/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"displayName": "victim-scim-group", "members": []map[string]any{{"value": e.bSCIMUser}}})

	// A: the attacker's own credentials and objects.
	owner, _ := svc.GetUserByUsername(ctx, o.ID, "owner@example.com")
	e.aAdminTok, _, err = svc.CreateToken(ctx, core.CLIActor(), o.ID, "ops", core.ScopeAdmin, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.aSCIMTok = e.scimToken(o.ID, "okta")
	e.aGroup = e.mustID(e.owner, "POST", "/api/v1/groups", map[string]any{"name": "a-group"})
	e.aApp = e.mustID(e.owner, "POST", "/api/v1/apps", map[string]any{"name": "a-app"})
	e.aSCIMGroup = e.mustID(e.aSCIMTok, "POST", "/scim/v2/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "a-scim-group"})
	return e
}

func scimUser(name string) map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": name,
		"name": map[string]any{"givenName": "G", "familyName": "F"}, "emails": []map[string]any{{"value": name, "primary": true}}, "active": true}
}

func (e *tenantEnv) scimToken(orgID, name string) string {
	e.t.Helper()
	secret, tok, err := e.svc.CreateToken(e.ctx, core.CLIActor(), orgID, name, core.ScopeSCIM, "")
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.svc.SetDirectorySettings(e.ctx, core.CLIActor(), orgID, core.DirectorySettings{TokenID: tok.ID, DefaultRole: core.RoleMember}); err != nil {
		e.t.Fatal(err)
	}
	return secret
}

func (e *tenantEnv) must2xx(tok, method, path string, body any) resp {
	e.t.Helper()
	r := e.do(nil, method, path, tok, body, "Content-Type", contentType(path))
	if r.code >= 300 {
		e.t.Fatalf("%s %s: %d %s", method, path, r.code, r.raw)
	}
	return r
}

func (e *tenantEnv) mustID(tok, method, path string, body any) string {
	e.t.Helper()
	return e.must2xx(tok, method, path, body).body["id"].(string)
}

func contentType(path string) string {
	if strings.HasPrefix(path, "/scim/") {
		return "application/scim+json"
	}
	return "application/json"
}

// snapshot is everything of organisation B that any route could change.
func (e *tenantEnv) snapshot() string {
	e.t.Helper()
	ctx, org := e.ctx, e.bOrg
	var parts []any
	add := func(v any, err error) {
		if err != nil {
			e.t.Fatal(err)
		}
		parts = append(parts, v)
	}
	users, err := e.svc.ListUsers(ctx, core.UserQuery{OrgID: org, Limit: 1000})
	add(users, err)
	for _, u := range users {
		add(e.svc.History(ctx, org, u.ID))
		add(e.svc.UserMail(ctx, org, u.ID))
	}
	groups, err := e.svc.ListGroups(ctx, org)
	add(groups, err)
	for _, g := range groups {
		add(e.svc.GroupMembers(ctx, org, g.ID))
	}
	add(e.svc.ListApps(ctx, org))
	add(e.svc.ListTokens(ctx, core.CLIActor(), org))
	add(e.svc.OrgSettings(ctx, org))
	add(e.svc.MailTemplates(ctx, org))
	raw, err := json.Marshal(parts)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(raw)
}

type attempt struct {
	method, path string
	body         any
	want         []int // allowed statuses; nil: any non-5xx (the route addresses A's own data)
}

// Every route of the router, with a token or session of organisation A
// aimed at organisation B's objects: B's ids answer 404 (or 403), no answer
// carries anything of B, and B is unchanged afterwards. A route without a
// case here fails the test, so new routes must be added.
func TestTenantIsolationOnEveryRoute(t *testing.T) {
	e := newTenantEnv(t)
	nf := []int{404}
	bUsers := []string{e.bUser, e.bInvited, e.bSCIMUser}
	userActions := func(prefix string) []attempt {
		var out []attempt
		for _, id := range bUsers {
			for _, act := range []string{"disable", "enable", "archive", "restore", "unlock", "resend-invite", "send-password-reset"} {
				out = append(out, attempt{"POST", prefix + "/users/" + id + "/" + act, nil, nf})
			}
			out = append(out, attempt{"POST", prefix + "/users/" + id + "/set-password", map[string]any{"password": "Hijacked-passphrase-1"}, nf})
		}
		return out
	}
	perUser := func(method, suffix string, body any) []attempt {
		var out []attempt
		for _, id := range bUsers {
			out = append(out, attempt{method, "/api/v1/users/" + id + suffix, body, nf})
		}
		return out
	}
	forGroups := func(method, suffix string, body any, want []int) []attempt {
		return []attempt{{method, "/api/v1/groups/" + e.bGroup + suffix, body, want}, {method, "/api/v1/groups/" + e.bSCIMGroup + suffix, body, want}}
	}
	v := "/api/v1"
	s := "/scim/v2"
	scimUserIDs := []string{e.bSCIMUser, e.bUser}
	scimGroupIDs := []string{e.bSCIMGroup, e.bGroup}
	perSCIM := func(method, coll string, ids []string, body any) []attempt {
		var out []attempt
		for _, id := range ids {
			out = append(out, attempt{method, s + "/" + coll + "/" + id, body, nf})
		}
		return out
	}
	groupPatch := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []map[string]any{{"op": "add", "path": "members", "value": []map[string]any{{"value": e.bSCIMUser}}}}}
	cases := map[string][]attempt{
		"POST /api/v1/auth/login": {
			{"POST", v + "/auth/login", map[string]any{"username": "victim-owner@b.example", "password": victimPW}, []int{401}},
			{"POST", v + "/auth/login", map[string]any{"org": "default", "username": "victim-user@b.example", "password": victimPW}, []int{401}},
		},
		"POST /api/v1/invites/accept":                         {{"POST", v + "/invites/accept", map[string]any{"token": e.bInvited, "password": "Hijacked-passphrase-1"}, []int{400, 404, 410}}},
		"POST /api/v1/auth/password-reset":                    {{"POST", v + "/auth/password-reset", map[string]any{"login": "victim-user@b.example"}, nil}},
		"POST /api/v1/auth/logout":                            {{"POST", v + "/auth/logout", nil, nil}},
		"POST /api/v1/auth/password":                          {{"POST", v + "/auth/password", nil, nil}},
		"GET /api/v1/me":                                      {{"GET", v + "/me", nil, nil}},
		"GET /api/v1/users":                                   {{"GET", v + "/users", nil, nil}, {"GET", v + "/users?q=victim", nil, nil}},
		"POST /api/v1/users":                                  {{"POST", v + "/users", map[string]any{"username": "new-a-user", "send_invite": false}, nil}, {"POST", v + "/users", map[string]any{"username": "x", "source": "ldap", "ldap_source": "victim-ldap"}, []int{400, 404}}},
		"POST /api/v1/users/bulk":                             {{"POST", v + "/users/bulk", map[string]any{"action": "archive", "ids": bUsers}, nil}, {"POST", v + "/users/bulk", map[string]any{"action": "disable", "ids": bUsers}, nil}},
		"GET /api/v1/users/export":                            {{"GET", v + "/users/export", nil, nil}},
		"POST /api/v1/users/import":                           {{"POST", v + "/users/import?dry_run=false", "username,email\nimported-a@example.com,imported-a@example.com\n", nil}},
		"GET /api/v1/users/{id}":                              perUser("GET", "", nil),
		"PATCH /api/v1/users/{id}":                            perUser("PATCH", "", map[string]any{"last_name": "Hijacked"}),
		"DELETE /api/v1/users/{id}":                           perUser("DELETE", "", nil),
		"GET /api/v1/users/{id}/history":                      perUser("GET", "/history", nil),
		"POST /api/v1/users/{id}/{action}":                    userActions(v),
		"GET /api/v1/org":                                     {{"GET", v + "/org", nil, nil}},
		"PUT /api/v1/org":                                     {{"PUT", v + "/org", map[string]any{"display_name": "Hijacked", "support_email": "evil@example.com"}, nil}},
		"GET /api/v1/org/mail-templates/variables":            {{"GET", v + "/org/mail-templates/variables", nil, nil}},
		"POST /api/v1/apps/{id}/message":                      {{"POST", v + "/apps/" + e.bApp + "/message", map[string]any{"subject": "Hi", "body": "Phish"}, nf}},
		"GET /api/v1/apps/{id}/users":                         {{"GET", v + "/apps/" + e.bApp + "/users", nil, nf}},
		"GET /api/v1/org/settings":                            {{"GET", v + "/org/settings", nil, nil}},
		"PUT /api/v1/org/settings":                            {{"PUT", v + "/org/settings", map[string]any{"invite_valid_days": 3}, nil}},
		"GET /api/v1/org/password-policy":                     {{"GET", v + "/org/password-policy", nil, nil}},
		"PUT /api/v1/org/password-policy":                     {{"PUT", v + "/org/password-policy", map[string]any{"min_length": 20}, nil}},
		"GET /api/v1/org/metadata-template":                   {{"GET", v + "/org/metadata-template", nil, nil}},
		"GET /api/v1/org/user-schema":                         {{"GET", v + "/org/user-schema", nil, nil}},
		"PUT /api/v1/org/metadata-template":                   {{"PUT", v + "/org/metadata-template", map[string]any{"fields": []any{}}, nil}},
		"GET /api/v1/groups":                                  {{"GET", v + "/groups", nil, nil}},
		"POST /api/v1/groups":                                 {{"POST", v + "/groups", map[string]any{"name": "a-second-group"}, nil}},
		"PATCH /api/v1/groups/{id}":                           forGroups("PATCH", "", map[string]any{"name": "hijacked"}, nf),
		"DELETE /api/v1/groups/{id}":                          forGroups("DELETE", "", nil, nf),
		"GET /api/v1/groups/{id}/members":                     forGroups("GET", "/members", nil, nf),
		"PUT /api/v1/groups/{id}/members":                     append(forGroups("PUT", "/members", map[string]any{"user_ids": []string{}}, nf), attempt{"PUT", v + "/groups/" + e.aGroup + "/members", map[string]any{"user_ids": bUsers}, []int{400, 404}}),
		"POST /api/v1/groups/{id}/members":                    append(forGroups("POST", "/members", map[string]any{"user_ids": []string{}}, []int{400, 404}), attempt{"POST", v + "/groups/" + e.aGroup + "/members", map[string]any{"user_ids": bUsers}, []int{400, 404}}),
		"DELETE /api/v1/groups/{id}/members/{user_id}":        {{"DELETE", v + "/groups/" + e.bGroup + "/members/" + e.bUser, nil, nf}, {"DELETE", v + "/groups/" + e.aGroup + "/members/" + e.bUser, nil, nf}},
		"POST /api/v1/groups/{id}/message":                    forGroups("POST", "/message", map[string]any{"subject": "Hi", "body": "Phish"}, nf),
		"GET /api/v1/apps":                                    {{"GET", v + "/apps", nil, nil}},
		"POST /api/v1/apps":                                   {{"POST", v + "/apps", map[string]any{"name": "a-second-app"}, nil}},
		"PATCH /api/v1/apps/{id}":                             {{"PATCH", v + "/apps/" + e.bApp, map[string]any{"name": "hijacked"}, nf}},
		"DELETE /api/v1/apps/{id}":                            {{"DELETE", v + "/apps/" + e.bApp, nil, nf}},
		"POST /api/v1/apps/{id}/assignments":                  {{"POST", v + "/apps/" + e.bApp + "/assignments", map[string]any{"user_id": e.bUser}, nf}, {"POST", v + "/apps/" + e.aApp + "/assignments", map[string]any{"user_id": e.bUser}, []int{400, 404}}},
		"DELETE /api/v1/apps/{id}/assignments":                {{"DELETE", v + "/apps/" + e.bApp + "/assignments?user_id=" + e.bUser, nil, nf}},
		"GET /api/v1/apps/{id}/oidc":                          {{"GET", v + "/apps/" + e.bApp + "/oidc", nil, nf}},
		"PUT /api/v1/apps/{id}/oidc":                          {{"PUT", v + "/apps/" + e.bApp + "/oidc", map[string]any{"redirect_uris": []string{"https://evil.example/cb"}}, nf}},
		"DELETE /api/v1/apps/{id}/oidc":                       {{"DELETE", v + "/apps/" + e.bApp + "/oidc", nil, nf}},
		"GET /api/v1/tokens":                                  {{"GET", v + "/tokens", nil, nil}},
		"POST /api/v1/tokens":                                 {{"POST", v + "/tokens", map[string]any{"name": "a-token", "scope": "scim"}, nil}},
		"DELETE /api/v1/tokens/{id}":                          {{"DELETE", v + "/tokens/" + e.bToken, nil, nf}},
		"GET /api/v1/users/{id}/mail":                         perUser("GET", "/mail", nil),
		"GET /api/v1/org/mail-templates":                      {{"GET", v + "/org/mail-templates", nil, nil}},
		"GET /api/v1/org/mail-templates/preview":              {{"GET", v + "/org/mail-templates/preview?kind=invite&language=fr", nil, nil}},
		"POST /api/v1/org/mail-templates/preview":             {{"POST", v + "/org/mail-templates/preview", map[string]any{"kind": "invite", "language": "fr"}, nil}},
		"PUT /api/v1/org/mail-templates/{kind}/{language}":    {{"PUT", v + "/org/mail-templates/invite/fr", map[string]any{"subject": "A subject"}, nil}},
		"DELETE /api/v1/org/mail-templates/{kind}/{language}": {{"DELETE", v + "/org/mail-templates/invite/fr", nil, nil}},
		"GET /api/v1/ldap/sources":                            {{"GET", v + "/ldap/sources", nil, nil}},
		"POST /api/v1/ldap/sources/{name}/sync":               {{"POST", v + "/ldap/sources/victim-ldap/sync", nil, nf}},
		"GET /api/v1/ldap/sources/{name}/search":              {{"GET", v + "/ldap/sources/victim-ldap/search?q=victim", nil, nf}},
		"GET /api/v1/users/counts":                            {{"GET", v + "/users/counts", nil, nil}},

		"GET /scim/v2/ServiceProviderConfig": {{"GET", s + "/ServiceProviderConfig", nil, nil}},
		"GET /scim/v2/Schemas":               {{"GET", s + "/Schemas", nil, nil}},
		"GET /scim/v2/Schemas/{id}":          {{"GET", s + "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", nil, nil}},
		"GET /scim/v2/ResourceTypes":         {{"GET", s + "/ResourceTypes", nil, nil}},
		"GET /scim/v2/ResourceTypes/{id}":    {{"GET", s + "/ResourceTypes/User", nil, nil}},
		"GET /scim/v2/Users": {{"GET", s + "/Users", nil, nil}, {"GET", s + "/Users?filter=" + urlq(`userName eq "victim-scim@b.example"`), nil, nil},
			{"GET", s + "/Users?filter=" + urlq(`id eq "`+e.bSCIMUser+`"`), nil, nil}},
		"POST /scim/v2/Users":         {{"POST", s + "/Users", scimUser("a-scim@example.com"), nil}},
		"POST /scim/v2/Users/.search": {{"POST", s + "/Users/.search", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, "filter": `userName sw "victim"`}, nil}},
		"GET /scim/v2/Users/{id}":     perSCIM("GET", "Users", scimUserIDs, nil),
		"PUT /scim/v2/Users/{id}":     perSCIM("PUT", "Users", scimUserIDs, scimUser("hijacked@example.com")),
		"PATCH /scim/v2/Users/{id}": perSCIM("PATCH", "Users", scimUserIDs, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []map[string]any{{"op": "replace", "path": "active", "value": false}}}),
		"DELETE /scim/v2/Users/{id}": perSCIM("DELETE", "Users", scimUserIDs, nil),
		"GET /scim/v2/Groups":        {{"GET", s + "/Groups", nil, nil}, {"GET", s + "/Groups?filter=" + urlq(`members[value eq "`+e.bSCIMUser+`"]`), nil, nil}},
		"POST /scim/v2/Groups": {{"POST", s + "/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "a-g2",
			"members": []map[string]any{{"value": e.bSCIMUser}}}, []int{400, 404}}},
		"POST /scim/v2/Groups/.search": {{"POST", s + "/Groups/.search", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, "filter": `displayName sw "victim"`}, nil}},
		"GET /scim/v2/Groups/{id}":     perSCIM("GET", "Groups", scimGroupIDs, nil),
		"PUT /scim/v2/Groups/{id}": append(perSCIM("PUT", "Groups", scimGroupIDs, map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "hijacked"}),
			attempt{"PUT", s + "/Groups/" + e.aSCIMGroup, map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "a-scim-group", "members": []map[string]any{{"value": e.bSCIMUser}}}, []int{400, 404}}),
		"PATCH /scim/v2/Groups/{id}":  append(perSCIM("PATCH", "Groups", scimGroupIDs, groupPatch), attempt{"PATCH", s + "/Groups/" + e.aSCIMGroup, groupPatch, []int{400, 404}}),
		"DELETE /scim/v2/Groups/{id}": perSCIM("DELETE", "Groups", scimGroupIDs, nil),
		"GET /scim/v2/Bulk":           {{"GET", s + "/Bulk", nil, nil}},
		"POST /scim/v2/Bulk":          {{"POST", s + "/Bulk", nil, nil}},
		"PUT /scim/v2/Bulk":           {{"PUT", s + "/Bulk", nil, nil}},
		"PATCH /scim/v2/Bulk":         {{"PATCH", s + "/Bulk", nil, nil}},
		"DELETE /scim/v2/Bulk":        {{"DELETE", s + "/Bulk", nil, nil}},
		"GET /scim/v2/Me":             {{"GET", s + "/Me", nil, nil}},
		"POST /scim/v2/Me":            {{"POST", s + "/Me", nil, nil}},
		"PUT /scim/v2/Me":             {{"PUT", s + "/Me", nil, nil}},
		"PATCH /scim/v2/Me":           {{"PATCH", s + "/Me", nil, nil}},
		"DELETE /scim/v2/Me":          {{"DELETE", s + "/Me", nil, nil}},
		"GET /healthz":                {{"GET", "/healthz", nil, nil}},
		"HEAD /healthz":               {{"HEAD", "/healthz", nil, nil}},
		"GET /readyz":                 {{"GET", "/readyz", nil, nil}},
		"HEAD /readyz":                {{"HEAD", "/readyz", nil, nil}},
	}
	// The same for every organisation: nothing of B's is in it.
	cases["GET /api/v1/org/mail-templates/builtin/{kind}/{language}"] = []attempt{{"GET", v + "/org/mail-templates/builtin/invite/fr", nil, nil}}
	// The audit log: A's entries only, whatever the filter names of B.
	cases["GET /api/v1/audit"] = []attempt{{"GET", v + "/audit?limit=500", nil, nil}, {"GET", v + "/audit?format=csv", nil, nil},
		{"GET", v + "/audit?user=" + e.bUser, nil, nil}, {"GET", v + "/audit?actor=victim-owner%40b.example", nil, nil}}
	// SCIM answers HEAD like GET, and takes the collections with a
	// trailing slash: the same attempts, with the other method or path.
	for k, as := range cases {
		if strings.HasPrefix(k, "GET /scim/v2/") {
			head := make([]attempt, len(as))
			for i, at := range as {
				at.method = "HEAD"
				head[i] = at
			}
			cases["HEAD"+strings.TrimPrefix(k, "GET")] = head
		}
	}
	for _, coll := range []string{"Users", "Groups"} {
		for _, m := range []string{"GET", "POST", "HEAD"} {
			src := cases[m+" /scim/v2/"+coll]
			slash := make([]attempt, len(src))
			for i, at := range src {
				at.path = strings.Replace(at.path, "/"+coll, "/"+coll+"/", 1)
				slash[i] = at
			}
			cases[m+" /scim/v2/"+coll+"/"] = slash
		}
	}
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"} {
		cases[m+" /scim/v2/.search"] = []attempt{{m, s + "/.search", nil, []int{501}}} // not supported
	}
	cases["GET /docs/scim.md"] = []attempt{{"GET", "/docs/scim.md", nil, nil}} // public documentation
	cases["HEAD /docs/scim.md"] = []attempt{{"HEAD", "/docs/scim.md", nil, nil}}
	routes := routeKeys(t, e.router)
	for _, k := range routes {
		if _, ok := cases[k]; !ok {
			t.Errorf("route %s has no tenant isolation case", k)
		}
	}
	secrets := []string{"victim", e.bOrg, e.bUser, e.bInvited, e.bSCIMUser, e.bGroup, e.bSCIMGroup, e.bApp, e.bToken, e.bOwnerTok, e.bSCIMTok}
	before := e.snapshot()
	n := 0
	for _, k := range routes {
		for _, a := range cases[k] {
			// Each attempt with every credential of A that the door takes:
			// a fresh bearer session, an admin token, a cookie session
			// (with its CSRF token) on the admin API; the SCIM token on SCIM.
			var creds []cred
			if strings.HasPrefix(a.path, "/scim/") {
				creds = []cred{{name: "scim token", bearer: e.aSCIMTok}}
			} else {
				creds = []cred{{name: "session", bearer: e.login("owner@example.com", ownerPW, "console")}, {name: "admin token", bearer: e.aAdminTok}, e.cookieSession()}
			}
			for _, c := range creds {
				n++
				r := e.attempt(a, c)
				if a.want != nil && !contains(a.want, r.code) {
					t.Errorf("%s %s as A's %s: %d %s, want %v", a.method, a.path, c.name, r.code, r.raw, a.want)
				}
				sent, _ := json.Marshal(a.body)
				for _, sec := range secrets {
					// An id the request itself named may be echoed ("user X not found").
					if strings.Contains(a.path+string(sent), sec) {
						continue
					}
					if strings.Contains(r.raw, sec) {
						t.Errorf("%s %s as A's %s: the answer carries B's %q: %s", a.method, a.path, c.name, sec, r.raw)
					}
				}
			}
		}
	}
	if after := e.snapshot(); after != before {
		t.Errorf("organisation B changed:\nbefore %s\nafter  %s", before, after)
	}
	e.ldap.mu.Lock()
	for _, org := range e.ldap.orgs {
		if org == e.bOrg {
			t.Errorf("the LDAP door was called for B's organisation on A's behalf")
		}
	}
	e.ldap.mu.Unlock()
	// B's people still log in with their own passwords.
	if r := e.do(nil, "POST", "/api/v1/auth/login", "", map[string]any{"org": "victim", "username": "victim-user@b.example", "password": victimPW}); r.code != 200 {
		t.Errorf("B's user after the attack: %d %s", r.code, r.raw)
	}
	t.Logf("%d routes, %d cross-tenant attempts", len(routes), n)
}

type cred struct {
	name, bearer, cookie, csrf string
}

// cookieSession logs A's owner into the console with a cookie session.
func (e *tenantEnv) cookieSession() cred {
	e.t.Helper()
	r := e.do(nil, "POST", "/api/v1/auth/login", "", map[string]any{"username": "owner@example.com", "password": ownerPW, "audience": "console", "cookie": true})
	c := cred{name: "cookie session"}
	for _, ck := range (&http.Response{Header: r.hdr}).Cookies() {
		c.cookie += ck.Name + "=" + ck.Value + "; "
	}
	c.csrf, _ = r.body["csrf_token"].(string)
	if r.code != 200 || c.cookie == "" || c.csrf == "" {
		e.t.Fatalf("cookie login: %d %s", r.code, r.raw)
	}
	return c
}

func (e *tenantEnv) attempt(a attempt, c cred) resp {
	e.t.Helper()
	hdr := []string{"Content-Type", contentType(a.path)}
	if s, ok := a.body.(string); ok && s != "" {
		hdr = []string{"Content-Type", "text/csv"}
	}
	if c.cookie != "" {
		hdr = append(hdr, "Cookie", c.cookie, "X-CSRF-Token", c.csrf)
	}
	var rd io.Reader
	switch b := a.body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, _ := json.Marshal(b)
		rd = bytes.NewReader(buf)
	}
	req, _ := http.NewRequest(a.method, e.srv.URL+a.path, rd)
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{code: res.StatusCode, raw: string(raw), hdr: res.Header}
	_ = json.Unmarshal(raw, &out.body)
	notImplemented := res.StatusCode == http.StatusNotImplemented && (strings.HasSuffix(a.path, "/Bulk") || strings.HasSuffix(a.path, "/Me") || strings.HasSuffix(a.path, "/v2/.search"))
	if res.StatusCode >= 500 && !notImplemented {
		e.t.Errorf("%s %s: %d %s", a.method, a.path, res.StatusCode, raw)
	}
	return out
}

func routeKeys(t *testing.T, r *mux.Router) []string {
	t.Helper()
	var keys []string
	err := r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		p, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		ms, err := route.GetMethods()
		if err != nil {
			return nil
		}
		for _, m := range ms {
			keys = append(keys, m+" "+p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	return keys
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func urlq(s string) string {
	return strings.NewReplacer(" ", "%20", `"`, "%22", "[", "%5B", "]", "%5D").Replace(s)
}
