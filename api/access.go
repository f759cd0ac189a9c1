package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	"github.com/rosterhq/roster/core"
)

func (a *API) mountAccess(r *mux.Router) {
	r.Handle("/groups", a.handle(a.listGroups)).Methods(http.MethodGet)
	r.Handle("/groups", a.handle(a.createGroup)).Methods(http.MethodPost)
	r.Handle("/groups/{id}", a.handle(a.renameGroup)).Methods(http.MethodPatch)
	r.Handle("/groups/{id}", a.handle(a.deleteGroup)).Methods(http.MethodDelete)
	r.Handle("/groups/{id}/members", a.handle(a.groupMembers)).Methods(http.MethodGet)
	r.Handle("/groups/{id}/members", a.handle(a.replaceMembers)).Methods(http.MethodPut)
	r.Handle("/groups/{id}/members", a.handle(a.addMembers)).Methods(http.MethodPost)
	r.Handle("/groups/{id}/members/{user_id}", a.handle(a.removeMember)).Methods(http.MethodDelete)
	r.Handle("/apps", a.handle(a.listApps)).Methods(http.MethodGet)
	r.Handle("/apps", a.handle(a.createApp)).Methods(http.MethodPost)
	r.Handle("/apps/{id}", a.handle(a.renameApp)).Methods(http.MethodPatch)
	r.Handle("/apps/{id}", a.handle(a.deleteApp)).Methods(http.MethodDelete)
	r.Handle("/apps/{id}/users", a.handle(a.appUsers)).Methods(http.MethodGet)
	r.Handle("/apps/{id}/assignments", a.handle(a.assignApp)).Methods(http.MethodPost)
	r.Handle("/apps/{id}/assignments", a.handle(a.unassignApp)).Methods(http.MethodDelete)
	r.Handle("/apps/{id}/oidc", a.handle(a.getAppOIDC)).Methods(http.MethodGet)
	r.Handle("/apps/{id}/oidc", a.handle(a.putAppOIDC)).Methods(http.MethodPut)
	r.Handle("/apps/{id}/oidc", a.handle(a.deleteAppOIDC)).Methods(http.MethodDelete)
	r.Handle("/tokens", a.handle(a.listTokens)).Methods(http.MethodGet)
	r.Handle("/tokens", a.handle(a.createToken)).Methods(http.MethodPost)
	r.Handle("/tokens/{id}", a.handle(a.revokeToken)).Methods(http.MethodDelete)
}

type named struct {
	Name string `json:"name"`
}

func (a *API) listGroups(w http.ResponseWriter, r *http.Request) error {
	if err := core.AuthorizeUserAdmin(a.actor(r)); err != nil {
		return err
	}
	gs, err := a.svc.ListGroups(r.Context(), orgID(r))
	if err != nil {
		return err
	}
	// Each group with what the caller may do to it (a directory's group
	// is changed in the directory).
	type groupRow struct {
		core.Group
		Actions []string `json:"actions"`
	}
	actor := a.actor(r)
	rows := make([]groupRow, len(gs))
	for i := range gs {
		rows[i] = groupRow{Group: gs[i], Actions: core.GroupActions(actor, &gs[i])}
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": rows})
	return nil
}

func (a *API) createGroup(w http.ResponseWriter, r *http.Request) error {
	var in named
	if err := decode(w, r, &in); err != nil {
		return err
	}
	g, err := a.svc.CreateGroup(r.Context(), a.actor(r), core.NewGroup{OrgID: orgID(r), Name: in.Name})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, g)
	return nil
}

func (a *API) renameGroup(w http.ResponseWriter, r *http.Request) error {
	var in named
	if err := decode(w, r, &in); err != nil {
		return err
	}
	g, err := a.svc.RenameGroup(r.Context(), a.actor(r), orgID(r), mux.Vars(r)["id"], in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

func (a *API) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DeleteGroup(r.Context(), a.actor(r), orgID(r), mux.Vars(r)["id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) groupMembers(w http.ResponseWriter, r *http.Request) error {
	if err := core.AuthorizeUserAdmin(a.actor(r)); err != nil {
		return err
	}
	ids, err := a.svc.GroupMembers(r.Context(), orgID(r), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"user_ids": ids})
	return nil
}

type memberIDs struct {
	UserIDs []string `json:"user_ids"`
}

func (a *API) replaceMembers(w http.ResponseWriter, r *http.Request) error {
	var in memberIDs
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := a.svc.ReplaceGroupMembers(r.Context(), a.actor(r), orgID(r), mux.Vars(r)["id"], in.UserIDs); err != nil {
		return err
	}
	return a.groupMembers(w, r)
}

func (a *API) addMembers(w http.ResponseWriter, r *http.Request) error {
	var in memberIDs
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if len(in.UserIDs) == 0 {
		return badRequest("user_ids", "at least one user id is required")
	}
	for _, id := range in.UserIDs {
		if err := a.svc.SetGroupMember(r.Context(), a.actor(r), orgID(r), mux.Vars(r)["id"], id, true); err != nil {
			return err
		}
	}
	return a.groupMembers(w, r)
}

func (a *API) removeMember(w http.ResponseWriter, r *http.Request) error {
	v := mux.Vars(r)
	if err := a.svc.SetGroupMember(r.Context(), a.actor(r), orgID(r), v["id"], v["user_id"], false); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listApps(w http.ResponseWriter, r *http.Request) error {
	apps, err := a.svc.AppsWithActions(r.Context(), a.actor(r), orgID(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"apps": apps})
	return nil
}

func (a *API) createApp(w http.ResponseWriter, r *http.Request) error {
	var in named
	if err := decode(w, r, &in); err != nil {
		return err
	}
	app, err := a.svc.CreateApp(r.Context(), a.actor(r), orgID(r), in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, app)
	return nil
}

func (a *API) renameApp(w http.ResponseWriter, r *http.Request) error {
	var in named
	if err := decode(w, r, &in); err != nil {
		return err
	}
	app, err := a.svc.RenameApp(r.Context(), a.actor(r), orgID(r), mux.Vars(r)["id"], in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, app)
	return nil
}

func (a *API) deleteApp(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DeleteApp(r.Context(), a.actor(r), orgID(r), mux.Vars(r)["id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) appUsers(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.svc.AppAccessOf(r.Context(), a.actor(r), orgID(r), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, acc)
	return nil
}

type assignment struct {
	UserID  string `json:"user_id"`
	GroupID string `json:"group_id"`
	AppRole string `json:"app_role"`
}

func (a *API) assignApp(w http.ResponseWriter, r *http.Request) error {
	var in assignment
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := a.svc.AssignApp(r.Context(), a.actor(r), core.AppGrant{OrgID: orgID(r), AppID: mux.Vars(r)["id"], UserID: in.UserID, GroupID: in.GroupID, AppRole: in.AppRole}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) unassignApp(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	userID, groupID := q.Get("user_id"), q.Get("group_id")
	if (userID == "") == (groupID == "") {
		return badRequest("user_id", "name exactly one of user_id and group_id")
	}
	if err := a.svc.UnassignApp(r.Context(), a.actor(r), core.AppGrant{OrgID: orgID(r), AppID: mux.Vars(r)["id"], UserID: userID, GroupID: groupID}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.svc.ListTokens(r.Context(), a.actor(r), orgID(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": ts})
	return nil
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name        string          `json:"name"`
		Scope       core.TokenScope `json:"scope"`
		UserID      string          `json:"user_id"`
		RoleCeiling core.Role       `json:"role_ceiling"`
		Invite      *bool           `json:"invite"`
		DefaultRole core.Role       `json:"default_role"`
		RoleRules   []struct {
			Group string    `json:"group"`
			Role  core.Role `json:"role"`
		} `json:"role_rules"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	nt := core.NewToken{Name: in.Name, Scope: in.Scope, UserID: in.UserID, RoleCeiling: in.RoleCeiling}
	if in.Invite != nil || in.DefaultRole != "" || in.RoleRules != nil {
		set := core.DefaultDirectorySettings("")
		if in.Invite != nil {
			set.Invite = *in.Invite
		}
		if in.DefaultRole != "" {
			set.DefaultRole = in.DefaultRole
		}
		for _, rr := range in.RoleRules {
			set.RoleRules = append(set.RoleRules, core.RoleRule{Group: rr.Group, Role: rr.Role})
		}
		nt.Settings = &set
	}
	secret, t, err := a.svc.IssueToken(r.Context(), a.actor(r), orgID(r), nt)
	if err != nil {
		return err
	}
	// The token as the list shows it (no null user_id, no empty ceiling), and its secret.
	writeJSON(w, http.StatusCreated, struct {
		*core.APIToken
		Token string `json:"token"`
	}{t, secret})
	return nil
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.RevokeToken(r.Context(), a.actor(r), orgID(r), mux.Vars(r)["id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// oidcClient is an app's OpenID Connect client settings, as sent.
type oidcClient struct {
	Public               bool     `json:"public"`
	RedirectURIs         []string `json:"redirect_uris"`
	PostLogoutURIs       []string `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI string   `json:"backchannel_logout_uri"`
	RotateSecret         bool     `json:"rotate_secret"`
}

// oidcClientOut is the client as answered: the secret only when one was
// just issued (shown once), with the issuer the app configures.
type oidcClientOut struct {
	*core.OIDCClient
	ClientSecret string `json:"client_secret,omitempty"`
	Issuer       string `json:"issuer"`
}

func (a *API) oidcOut(r *http.Request, c *core.OIDCClient, secret string) (oidcClientOut, error) {
	o, err := a.svc.OrgByID(r.Context(), orgID(r))
	if err != nil {
		return oidcClientOut{}, err
	}
	return oidcClientOut{OIDCClient: c, ClientSecret: secret, Issuer: strings.TrimRight(a.cfg.PublicURL, "/") + "/oidc/" + url.PathEscape(o.Name)}, nil
}

func (a *API) getAppOIDC(w http.ResponseWriter, r *http.Request) error {
	c, err := a.svc.AppOIDC(r.Context(), a.actor(r), orgID(r), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	out, err := a.oidcOut(r, c, "")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) putAppOIDC(w http.ResponseWriter, r *http.Request) error {
	var in oidcClient
	if err := decode(w, r, &in); err != nil {
		return err
	}
	secret, c, err := a.svc.SetAppOIDC(r.Context(), a.actor(r), orgID(r), mux.Vars(r)["id"], core.OIDCClientInput{Public: in.Public,
		RedirectURIs: in.RedirectURIs, PostLogoutURIs: in.PostLogoutURIs, BackchannelLogoutURI: in.BackchannelLogoutURI, RotateSecret: in.RotateSecret})
	if err != nil {
		return err
	}
	out, err := a.oidcOut(r, c, secret)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) deleteAppOIDC(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DeleteAppOIDC(r.Context(), a.actor(r), orgID(r), mux.Vars(r)["id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
