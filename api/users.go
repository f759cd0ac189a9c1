package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/rosterhq/roster/core"
)

// multi reads a query parameter given repeatedly or comma-separated.
func multi(r *http.Request, key string) []string { return multiOf(r.URL.Query(), key) }

func multiOf(q url.Values, key string) []string {
	var out []string
	for _, v := range q[key] {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

type userList struct {
	Users         []userRow `json:"users"`
	Total         int       `json:"total"`
	NextPageToken string    `json:"next_page_token"`
}

// searchFromQuery reads the list's filters, sort and page from the query string.
func searchFromQuery(r *http.Request) (core.UserSearch, error) {
	return searchFrom(orgID(r), r.URL.Query())
}

// searchFrom reads the list's filters, sort and page from query values (a
// query string, or a bulk request's filter).
func searchFrom(org string, q url.Values) (core.UserSearch, error) {
	s := core.UserSearch{OrgID: org, Group: q.Get("group"), App: q.Get("app"), Sort: core.SortKey(q.Get("sort"))}
	for _, v := range multiOf(q, "role") {
		s.Roles = append(s.Roles, core.Role(v))
	}
	for _, v := range multiOf(q, "status") {
		s.Statuses = append(s.Statuses, core.Status(v))
	}
	for _, v := range multiOf(q, "invite_status") {
		s.InviteStatuses = append(s.InviteStatuses, core.InviteStatus(v))
	}
	switch q.Get("order") {
	case "", "asc":
	case "desc":
		s.Desc = true
	default:
		return s, badRequest("order", "%q is not asc or desc", q.Get("order"))
	}
	if ps := q.Get("page_size"); ps != "" {
		n, err := strconv.Atoi(ps)
		if err != nil || n < 1 {
			return s, badRequest("page_size", "%q is not a positive number", ps)
		}
		s.Limit = n
	}
	if tok := q.Get("page_token"); tok != "" {
		c, err := core.DecodeCursor(tok)
		if err != nil {
			return s, err
		}
		s.After = c
	}
	return s, nil
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	if err := core.AuthorizeUserAdmin(a.actor(r)); err != nil {
		return err
	}
	s, err := searchFromQuery(r)
	if err != nil {
		return err
	}
	res, err := a.svc.SearchUsers(r.Context(), s, r.URL.Query().Get("q"))
	if err != nil {
		return err
	}
	actor := a.actor(r)
	out := userList{Users: make([]userRow, len(res.Users)), Total: res.Total}
	for i := range res.Users {
		out.Users[i] = withActions(actor, &res.Users[i])
	}
	if res.Next != nil {
		out.NextPageToken = res.Next.Encode()
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// userCounts answers the organisation's users by status and by invite
// status (the console's dashboard header), in one request.
func (a *API) userCounts(w http.ResponseWriter, r *http.Request) error {
	if err := core.AuthorizeUserAdmin(a.actor(r)); err != nil {
		return err
	}
	count := func(s core.UserSearch) (int, error) {
		s.OrgID, s.Limit = orgID(r), 1
		res, err := a.svc.SearchUsers(r.Context(), s, "")
		if err != nil {
			return 0, err
		}
		return res.Total, nil
	}
	total, err := count(core.UserSearch{})
	if err != nil {
		return err
	}
	out := struct {
		Total        int            `json:"total"`
		Status       map[string]int `json:"status"`
		InviteStatus map[string]int `json:"invite_status"`
	}{Total: total, Status: map[string]int{}, InviteStatus: map[string]int{}}
	for _, st := range core.Statuses {
		if out.Status[string(st)], err = count(core.UserSearch{Statuses: []core.Status{st}}); err != nil {
			return err
		}
	}
	for _, is := range core.InviteStatuses {
		if out.InviteStatus[string(is)], err = count(core.UserSearch{InviteStatuses: []core.InviteStatus{is}}); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type createUserRequest struct {
	Username      string            `json:"username"`
	Email         string            `json:"email"`
	FirstName     string            `json:"first_name"`
	LastName      string            `json:"last_name"`
	Phone         string            `json:"phone"`
	Language      string            `json:"language"`
	Role          core.Role         `json:"role"`
	CanCreateApps bool              `json:"can_create_apps"`
	Source        string            `json:"source"`
	LDAPSource    string            `json:"ldap_source"`
	SendInvite    *bool             `json:"send_invite"`
	InviteLang    string            `json:"invite_language"`
	DisplayName   string            `json:"display_name"`
	ManagerID     string            `json:"manager_id"`
	ExternalID    string            `json:"external_id"`
	Attributes    core.Attributes   `json:"attributes"`
	Metadata      map[string]string `json:"metadata"`
}

type userWithLink struct {
	*core.UserView
	InviteLink string `json:"invite_link,omitempty"`
}

func (a *API) inviteLink(token string) string {
	return strings.TrimRight(a.cfg.PublicURL, "/") + "/invite/" + token
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) error {
	var in createUserRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	switch in.Source {
	case "", "native":
	case "ldap":
		return a.createLDAPUser(w, r, in)
	default:
		return badRequest("source", "%q is not native or ldap", in.Source)
	}
	mode := core.InviteByMail
	if in.SendInvite != nil && !*in.SendInvite {
		mode = core.InviteByLink
	}
	res, err := a.svc.CreateUser(r.Context(), a.actor(r), core.NewUser{
		OrgID: orgID(r), Username: in.Username, Email: in.Email, FirstName: in.FirstName, LastName: in.LastName,
		Phone: in.Phone, Language: in.Language, Role: in.Role, CanCreateApps: in.CanCreateApps, Metadata: in.Metadata, Invite: mode,
		MailLanguage: in.InviteLang, DisplayName: in.DisplayName, ManagerID: in.ManagerID, ExternalID: in.ExternalID, Attributes: in.Attributes,
	})
	if err != nil {
		return attributesAsSent(asSent(err, map[string]string{"mail_language": "invite_language"}))
	}
	out := userWithLink{UserView: res.User}
	if mode == core.InviteByLink {
		out.InviteLink = a.inviteLink(res.InviteToken)
	}
	w.Header().Set("Location", "/api/v1/users/"+res.User.ID)
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) error {
	if err := core.AuthorizeUserAdmin(a.actor(r)); err != nil {
		return err
	}
	u, err := a.svc.GetUser(r.Context(), orgID(r), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, withActions(a.actor(r), u))
	return nil
}

// userRow is a user as the list and GET /users/{id} answer it: with the
// actions the caller may take on that user now (core.UserActions).
type userRow struct {
	*core.UserView
	Actions []string `json:"actions"`
}

func withActions(a core.Actor, u *core.UserView) userRow {
	return userRow{UserView: u, Actions: core.UserActions(a, &u.User)}
}

type patchUserRequest struct {
	Username      *string           `json:"username"`
	Email         *string           `json:"email"`
	FirstName     *string           `json:"first_name"`
	LastName      *string           `json:"last_name"`
	Phone         *string           `json:"phone"`
	Language      *string           `json:"language"`
	Role          *core.Role        `json:"role"`
	CanCreateApps *bool             `json:"can_create_apps"`
	DisplayName   *string           `json:"display_name"`
	ManagerID     *string           `json:"manager_id"`
	ExternalID    *string           `json:"external_id"`
	Attributes    core.Attributes   `json:"attributes"`
	Metadata      map[string]string `json:"metadata"`
}

func (a *API) patchUser(w http.ResponseWriter, r *http.Request) error {
	var in patchUserRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	u, err := a.svc.UpdateUser(r.Context(), a.actor(r), orgID(r), mux.Vars(r)["id"], core.UserChanges{
		Username: in.Username, Email: in.Email, FirstName: in.FirstName, LastName: in.LastName, Phone: in.Phone,
		Language: in.Language, Role: in.Role, CanCreateApps: in.CanCreateApps, Metadata: in.Metadata,
		DisplayName: in.DisplayName, ManagerID: in.ManagerID, ExternalID: in.ExternalID, Attributes: in.Attributes,
	})
	if err != nil {
		return attributesAsSent(err)
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DeleteUser(r.Context(), a.actor(r), orgID(r), mux.Vars(r)["id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

var statusActions = map[string]core.Action{
	"disable": core.ActDisable, "enable": core.ActEnable, "archive": core.ActArchive,
	"restore": core.ActRestore, "unlock": core.ActUnlock,
}

func (a *API) userAction(w http.ResponseWriter, r *http.Request) error {
	id, action := mux.Vars(r)["id"], mux.Vars(r)["action"]
	if act, ok := statusActions[action]; ok {
		u, err := a.svc.ChangeStatus(r.Context(), a.actor(r), orgID(r), id, act)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, u)
		return nil
	}
	switch action {
	case "resend-invite":
		var in struct {
			SendInvite *bool  `json:"send_invite"`
			Language   string `json:"language"`
		}
		if r.ContentLength != 0 {
			if err := decode(w, r, &in); err != nil {
				return err
			}
		}
		mode := core.InviteByMail
		if in.SendInvite != nil && !*in.SendInvite {
			mode = core.InviteByLink
		}
		res, err := a.svc.ResendInvite(r.Context(), a.actor(r), orgID(r), id, core.Resend{Mode: mode, Language: in.Language})
		if err != nil {
			return err
		}
		out := userWithLink{UserView: res.User}
		if res.InviteToken != "" {
			out.InviteLink = a.inviteLink(res.InviteToken)
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	case "send-password-reset":
		var in struct {
			Language string `json:"language"`
		}
		if r.ContentLength != 0 {
			if err := decode(w, r, &in); err != nil {
				return err
			}
		}
		if err := a.svc.SendPasswordReset(r.Context(), a.actor(r), orgID(r), id, in.Language); err != nil {
			return err
		}
		w.WriteHeader(http.StatusAccepted)
		return nil
	case "set-password":
		var in struct {
			Password string `json:"password"`
		}
		if err := decode(w, r, &in); err != nil {
			return err
		}
		if err := a.svc.SetPassword(r.Context(), a.actor(r), orgID(r), id, in.Password); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return &httpError{status: http.StatusNotFound, code: "not_found", msg: "unknown action " + strconv.Quote(action)}
}

func (a *API) history(w http.ResponseWriter, r *http.Request) error {
	if err := core.AuthorizeUserAdmin(a.actor(r)); err != nil {
		return err
	}
	id := mux.Vars(r)["id"]
	h, err := a.svc.History(r.Context(), orgID(r), id)
	if err != nil {
		return err
	}
	if len(h) == 0 {
		if _, err := a.svc.GetUser(r.Context(), orgID(r), id); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"history": h})
	return nil
}

// maxBulk bounds one bulk request.
const maxBulk = 1000

type bulkOutcome struct {
	ID    string       `json:"id"`
	OK    bool         `json:"ok"`
	User  any          `json:"user,omitempty"`
	Error *errorDetail `json:"error,omitempty"` // the error's code, message and field, as in an error body's "error"
}

// bulk applies one action to many users, each through the same rules in its
// own transaction; one failure does not stop the rest (JIFFY).
// bulkFilter is the users list's filter and search, for a bulk action on
// every user it matches ("select all N matching").
type bulkFilter struct {
	Q            string `json:"q"`
	Role         string `json:"role"`
	Status       string `json:"status"`
	InviteStatus string `json:"invite_status"`
	Group        string `json:"group"`
	App          string `json:"app"`
}

func (a *API) bulk(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Action        string      `json:"action"`
		IDs           []string    `json:"ids"`
		Filter        *bulkFilter `json:"filter"`
		ExpectedTotal *int        `json:"expected_total"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Action == "set_as_admin" { // the import's former column name
		in.Action = "set_admin"
	}
	switch {
	case in.Filter != nil && len(in.IDs) > 0:
		return badRequest("filter", "send ids or a filter, not both")
	case in.Filter != nil:
		if in.ExpectedTotal == nil {
			return badRequest("expected_total", "required with a filter: the number of users the console showed as matching")
		}
	case len(in.IDs) == 0:
		return badRequest("ids", "at least one id is required")
	case len(in.IDs) > maxBulk:
		return badRequest("ids", "%d ids; at most %d per request", len(in.IDs), maxBulk)
	}
	var do func(id string) (*core.UserView, error)
	actor := a.actor(r)
	check := core.AuthorizeUserAdmin
	if in.Action != "set_admin" {
		check = core.AuthorizeRemoveUsers
	}
	if err := check(actor); err != nil {
		return err
	}
	org := orgID(r)
	switch in.Action {
	case "set_admin":
		role := core.RoleAdmin
		do = func(id string) (*core.UserView, error) {
			return a.svc.UpdateUser(r.Context(), actor, org, id, core.UserChanges{Role: &role})
		}
	case "deactivate":
		do = func(id string) (*core.UserView, error) {
			return a.svc.ChangeStatus(r.Context(), actor, org, id, core.ActDisable)
		}
	case "archive":
		do = func(id string) (*core.UserView, error) {
			return a.svc.ChangeStatus(r.Context(), actor, org, id, core.ActArchive)
		}
	default:
		return badRequest("action", "%q is not one of set_admin, deactivate, archive", in.Action)
	}
	if in.Filter != nil {
		ids, err := a.matchingIDs(r, *in.Filter, *in.ExpectedTotal)
		if err != nil {
			return err
		}
		in.IDs = ids
	}
	out := make([]bulkOutcome, 0, len(in.IDs))
	okCount := 0
	for _, id := range in.IDs {
		u, err := do(id)
		if err != nil {
			_, body := a.errorBody(r, err)
			out = append(out, bulkOutcome{ID: id, Error: &body.Error})
			continue
		}
		okCount++
		out = append(out, bulkOutcome{ID: id, OK: true, User: u})
	}
	writeJSON(w, http.StatusOK, map[string]any{"action": in.Action, "succeeded": okCount, "failed": len(in.IDs) - okCount, "results": out})
	return nil
}

// matchingIDs is every user the filter matches, read before any is changed
// (an action may move a user out of the filter). It refuses when the count
// is no longer the one the caller saw (expected), and over maxBulk.
func (a *API) matchingIDs(r *http.Request, f bulkFilter, expected int) ([]string, error) {
	q := url.Values{}
	for k, v := range map[string]string{"role": f.Role, "status": f.Status, "invite_status": f.InviteStatus, "group": f.Group, "app": f.App} {
		if v != "" {
			q.Set(k, v)
		}
	}
	s, err := searchFrom(orgID(r), q)
	if err != nil {
		return nil, err
	}
	s.Limit = 500
	var ids []string
	for {
		page, err := a.svc.SearchUsers(r.Context(), s, f.Q)
		if err != nil {
			return nil, err
		}
		if page.Total != expected {
			return nil, &httpError{status: http.StatusConflict, code: "changed", field: "expected_total",
				msg: fmt.Sprintf("%d users match the filter now, not %d: reload the list and select again", page.Total, expected)}
		}
		if page.Total > maxBulk {
			return nil, badRequest("filter", "%d users match; at most %d per request: narrow the filter", page.Total, maxBulk)
		}
		for _, u := range page.Users {
			ids = append(ids, u.ID)
		}
		if page.Next == nil {
			break
		}
		s.After = page.Next
	}
	if len(ids) != expected {
		return nil, &httpError{status: http.StatusConflict, code: "changed", field: "expected_total",
			msg: fmt.Sprintf("%d users match the filter now, not %d: reload the list and select again", len(ids), expected)}
	}
	return ids, nil
}

// createLDAPUser adds a directory user by looking the username up in the
// named source; the directory provides every attribute.
func (a *API) createLDAPUser(w http.ResponseWriter, r *http.Request, in createUserRequest) error {
	if err := core.AuthorizeUserAdmin(a.actor(r)); err != nil {
		return err
	}
	if in.LDAPSource == "" {
		return badRequest("ldap_source", "name the LDAP source to look %q up in", in.Username)
	}
	if a.cfg.LDAP == nil {
		return badRequest("ldap_source", "no LDAP source is configured")
	}
	u, err := a.cfg.LDAP.Import(r.Context(), orgID(r), in.LDAPSource, in.Username)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/users/"+u.ID)
	writeJSON(w, http.StatusCreated, userWithLink{UserView: u})
	return nil
}

// attributesAsSent names a refused document attribute as the caller sent
// it: inside "attributes" (attributes.title, attributes.emails[0].value).
// Core names it by its API name alone where it validates the document.
func attributesAsSent(err error) error {
	var ve *core.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	out := &core.ValidationError{Problems: make([]core.FieldError, len(ve.Problems))}
	for i, p := range ve.Problems {
		name := p.Field
		if j := strings.IndexAny(name, ".["); j >= 0 {
			name = name[:j]
		}
		if def, ok := core.SchemaAttribute(name); ok && def.Storage == core.StoreDocument {
			p.Field = "attributes." + p.Field
		}
		out.Problems[i] = p
	}
	return out
}

// userSchema answers the organisation's user schema: every standard
// attribute, then one row per custom metadata field ("metadata.<name>").
// The console builds its users list columns, forms and details from it.
func (a *API) userSchema(w http.ResponseWriter, r *http.Request) error {
	if err := core.AuthorizeUserAdmin(a.actor(r)); err != nil {
		return err
	}
	tpl, err := a.svc.MetadataTemplate(r.Context(), orgID(r))
	if err != nil {
		return err
	}
	attrs := core.OrgUserSchema(tpl)
	for i := range attrs {
		// sortable here means the list's sort parameter takes it.
		attrs[i].Sort = attrs[i].Sort && slices.Contains(core.SortKeys, core.SortKey(attrs[i].Name))
	}
	writeJSON(w, http.StatusOK, struct {
		Attributes []core.Attribute `json:"attributes"`
	}{attrs})
	return nil
}
