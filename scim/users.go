package scim

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	scimerr "github.com/elimity-com/scim/errors"
	"github.com/gorilla/mux"

	"github.com/rosterhq/roster/core"
)

// etag is the weak entity tag of a resource version.
func etag(updated time.Time) string {
	return fmt.Sprintf(`W/"%x"`, updated.UTC().UnixNano())
}

// timeStr renders meta.created and meta.lastModified at the precision roster
// stores (microseconds), so that a filter on a rendered value compares with
// exactly what is stored: a resource matches eq on its own lastModified, and
// not gt.
func timeStr(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00") }

// notModified answers a conditional GET (If-None-Match, RFC 7232 §3.2, weak
// comparison) with 304 when the current version matches; the ETag header is
// already set.
func notModified(w http.ResponseWriter, r *http.Request, version string) bool {
	inm := strings.TrimSpace(r.Header.Get("If-None-Match"))
	if inm == "" {
		return false
	}
	norm := func(s string) string { return strings.TrimPrefix(strings.TrimSpace(s), "W/") }
	for _, t := range strings.Split(inm, ",") {
		if t = strings.TrimSpace(t); t == "*" || norm(t) == norm(version) {
			w.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	return false
}

// renderUser builds the SCIM representation of a user. forPatch renders the
// state a PATCH starts from: the directory's own values (its explicit role,
// its display name) rather than derived ones.
func renderUser(u *core.DirectoryUser, base string, forPatch bool) map[string]any {
	display := u.DisplayName
	if display == "" && !forPatch {
		display = u.FullName()
	}
	m := map[string]any{
		"schemas":  []string{URNUser, URNEnterprise, URNRoster},
		"id":       u.ID,
		"userName": u.Username,
		"active":   core.DirectoryActive(u.Status),
		"meta": map[string]any{
			"resourceType": "User", "created": timeStr(u.CreatedAt), "lastModified": timeStr(u.UpdatedAt),
			"location": base + "/Users/" + u.ID, "version": etag(u.UpdatedAt),
		},
	}
	opt := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	// An unassigned attribute is left out, not rendered as "" (RFC 7643 §2.5).
	name := map[string]any{}
	formatted := ""
	if !forPatch { // derived; a PATCH starts from the directory's own value (formatted_name)
		formatted = strings.TrimSpace(u.FullName())
	}
	for k, v := range map[string]string{"givenName": u.FirstName, "familyName": u.LastName, "formatted": formatted} {
		if v != "" {
			name[k] = v
		}
	}
	if len(name) > 0 {
		m["name"] = name
	}
	opt("externalId", u.ExternalID)
	opt("displayName", display)
	opt("preferredLanguage", u.Language)
	renderAttributes(m, u.Attributes)
	// Without a list (users from other doors), the one email and phone are
	// rendered as the work and primary value.
	if _, ok := m["emails"]; !ok && u.Email != "" {
		m["emails"] = []any{map[string]any{"value": u.Email, "type": "work", "primary": true}}
	}
	if _, ok := m["phoneNumbers"]; !ok && u.Phone != "" {
		m["phoneNumbers"] = []any{map[string]any{"value": u.Phone, "type": "work", "primary": true}}
	}
	if !forPatch && len(u.Groups) > 0 { // none: left out (RFC 7643 §2.5), like a group's members
		groups := make([]any, 0, len(u.Groups))
		for _, g := range u.Groups {
			groups = append(groups, map[string]any{"value": g.ID, "display": g.Name, "$ref": base + "/Groups/" + g.ID, "type": "direct"})
		}
		m["groups"] = groups
	}
	ent, _ := m[URNEnterprise].(map[string]any)
	if u.ManagerID != "" {
		if ent == nil {
			ent = map[string]any{}
			m[URNEnterprise] = ent
		}
		ent["manager"] = map[string]any{"value": u.ManagerID, "$ref": base + "/Users/" + u.ManagerID}
	}
	ros := map[string]any{"canCreateApps": u.CanCreateApps}
	if forPatch {
		if u.BaseRole != "" {
			ros["role"] = string(u.BaseRole)
		}
	} else {
		ros["role"] = string(u.Role)
		ros["status"] = string(u.Status)
		ros["inviteStatus"] = string(core.DeriveInviteStatus(&u.User, time.Now()))
		if r := core.DeriveInviteReason(&u.User); r != "" {
			ros["inviteReason"] = string(r)
		}
	}
	if len(u.Metadata) > 0 {
		md := make([]any, 0, len(u.Metadata))
		for k, v := range u.Metadata {
			md = append(md, map[string]any{"name": k, "value": v})
		}
		ros["metadata"] = md
	}
	m[URNRoster] = ros
	return m
}

// userMode says which request a user document came with.
type userMode int

const (
	modeCreate userMode = iota
	modeReplace
	modePatch
)

// parseUser reads a SCIM user document into the core input. Attributes roster
// does not keep (addresses, photos, …) and read-only ones (groups, meta) are
// ignored; the password an IdP generates is accepted and discarded.
// active is nil when the document does not say.
func parseUser(m map[string]any, mode userMode) (core.DirectoryUserInput, *bool, error) {
	var in core.DirectoryUserInput
	if mode != modePatch {
		if err := checkSchemas(m, URNUser); err != nil {
			return in, nil, err
		}
	}
	var err error
	v, ok := get(m, "userName")
	if !ok {
		return in, nil, fieldErr("userName", "is required")
	}
	if in.Username, ok = v.(string); !ok {
		return in, nil, fieldErr("userName", "must be a string, not %s", jsonType(v))
	}
	if strings.TrimSpace(in.Username) == "" {
		return in, nil, fieldErr("userName", "is required")
	}
	name, err := getObject(m, "name", "name")
	if err != nil {
		return in, nil, err
	}
	if name != nil {
		if in.FirstName, err = getString(name, "givenName", "name.givenName"); err != nil {
			return in, nil, err
		}
		if in.LastName, err = getString(name, "familyName", "name.familyName"); err != nil {
			return in, nil, err
		}
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"displayName", &in.DisplayName}, {"externalId", &in.ExternalID}, {"preferredLanguage", &in.Language}} {
		if *f.dst, err = getString(m, f.key, f.key); err != nil {
			return in, nil, err
		}
	}
	if in.Attributes, err = parseAttributes(m); err != nil {
		return in, nil, err
	}
	emails, err := getList(m, "emails", "emails")
	if err != nil {
		return in, nil, err
	}
	if in.Email, err = pickValue(emails, "emails"); err != nil {
		return in, nil, err
	}
	phones, err := getList(m, "phoneNumbers", "phoneNumbers")
	if err != nil {
		return in, nil, err
	}
	if in.Phone, err = pickValue(phones, "phoneNumbers"); err != nil {
		return in, nil, err
	}
	active, err := getBool(m, "active", "active")
	if err != nil {
		return in, nil, err
	}
	if err := parseEnterprise(m, &in); err != nil {
		return in, nil, err
	}
	if err := parseRoster(m, &in); err != nil {
		return in, nil, err
	}
	return in, active, nil
}

// unassignRoster gives a PATCH's remove of roster's extension attributes
// (or of the whole extension) its effect: role back to what role rules and the
// default decide, canCreateApps false, metadata emptied. (A PUT without the
// extension leaves these alone: the IdP does not manage them.)
func unassignRoster(doc map[string]any, cur *core.DirectoryUser, in *core.DirectoryUserInput) {
	ros, _ := get(doc, URNRoster)
	rm, _ := ros.(map[string]any)
	if _, ok := get(rm, "role"); !ok {
		none := core.Role("")
		in.Role = &none
	}
	if _, ok := get(rm, "canCreateApps"); !ok {
		f := false
		in.CanCreateApps = &f
	}
	if _, ok := get(rm, "metadata"); !ok && len(cur.Metadata) > 0 {
		in.Metadata = map[string]string{}
	}
}

func parseEnterprise(m map[string]any, in *core.DirectoryUserInput) error {
	ent, err := getObject(m, URNEnterprise, URNEnterprise)
	if err != nil || ent == nil {
		return err
	}
	if v, ok := get(ent, "manager"); ok {
		switch x := v.(type) {
		case string: // Entra sends the manager's id as a bare string
			in.ManagerID = x
		case map[string]any:
			if in.ManagerID, err = getString(x, "value", URNEnterprise+":manager.value"); err != nil {
				return err
			}
		default:
			return fieldErr(URNEnterprise+":manager", "must be an object with a value or an id string, not %s", jsonType(v))
		}
	}
	return nil
}

func parseRoster(m map[string]any, in *core.DirectoryUserInput) error {
	ros, err := getObject(m, URNRoster, URNRoster)
	if err != nil || ros == nil {
		return err
	}
	if v, ok := get(ros, "role"); ok {
		s, ok := v.(string)
		if !ok {
			return fieldErr(URNRoster+":role", "must be a string, not %s", jsonType(v))
		}
		r := core.Role(strings.ToLower(strings.TrimSpace(s)))
		in.Role = &r
	}
	if in.CanCreateApps, err = getBool(ros, "canCreateApps", URNRoster+":canCreateApps"); err != nil {
		return err
	}
	if v, ok := get(ros, "metadata"); ok {
		in.Metadata = map[string]string{}
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				s, ok := val.(string)
				if !ok {
					return fieldErr(URNRoster+":metadata."+k, "must be a string, not %s", jsonType(val))
				}
				in.Metadata[k] = s
			}
		default:
			items, err := getList(ros, "metadata", URNRoster+":metadata")
			if err != nil {
				return err
			}
			for i, it := range items {
				n, err := getString(it, "name", fmt.Sprintf("%s:metadata[%d].name", URNRoster, i))
				if err != nil {
					return err
				}
				if n == "" {
					return fieldErr(fmt.Sprintf("%s:metadata[%d].name", URNRoster, i), "is required")
				}
				val, err := getString(it, "value", fmt.Sprintf("%s:metadata[%d].value", URNRoster, i))
				if err != nil {
					return err
				}
				in.Metadata[n] = val
			}
		}
	}
	return nil
}

// ---- handlers ----

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request) error {
	p := who(r)
	m, err := readJSON(r)
	if err != nil {
		return err
	}
	in, active, err := parseUser(m, modeCreate)
	if err != nil {
		return err
	}
	in.Active = active
	u, err := h.svc.CreateDirectoryUser(r.Context(), p.actor, p.set, p.orgID, in)
	if err != nil {
		return err
	}
	base := h.baseURL(r)
	w.Header().Set("Location", base+"/Users/"+u.ID)
	w.Header().Set("ETag", etag(u.UpdatedAt))
	return h.writeResource(w, r, http.StatusCreated, renderUser(u, base, false))
}

func (h *Handler) getUser(w http.ResponseWriter, r *http.Request) error {
	p := who(r)
	u, err := h.svc.GetDirectoryUser(r.Context(), p.orgID, p.actor.Source, mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(u.UpdatedAt))
	if notModified(w, r, etag(u.UpdatedAt)) {
		return nil
	}
	return h.writeResource(w, r, http.StatusOK, renderUser(u, h.baseURL(r), false))
}

// ifMatch checks the If-Match header against a version; "*" matches any.
func ifMatch(r *http.Request, version string) error {
	want := strings.TrimSpace(r.Header.Get("If-Match"))
	if want == "" || want == "*" {
		return nil
	}
	norm := func(s string) string { return strings.TrimPrefix(strings.TrimSpace(s), "W/") }
	for _, t := range strings.Split(want, ",") {
		if norm(t) == norm(version) {
			return nil
		}
	}
	return &Error{Status: http.StatusPreconditionFailed, Detail: fmt.Sprintf("If-Match %s does not match the current version %s", want, version)}
}

// errPassword refuses a password change: roster does not set passwords over
// SCIM (changePassword.supported is false), so a password in PUT or PATCH is
// not silently discarded. A POST's password (Okta generates one) is.
// (A new error each time: PATCH prefixes its operation's index to the detail.)
func errPassword() *Error {
	return badRequest(scimerr.ScimTypeMutability, "password: roster does not set passwords over SCIM (changePassword is not supported); "+
		"users authenticate with their identity provider — turn off password sync for this application")
}

// errStale means the resource changed between reading and writing it.
var errStale = errors.New("resource changed concurrently")

func (h *Handler) replaceUser(w http.ResponseWriter, r *http.Request) error {
	p := who(r)
	id := mux.Vars(r)["id"]
	m, err := readJSON(r)
	if err != nil {
		return err
	}
	// id, meta and groups are readOnly: ignored in a PUT body (RFC 7643 §7,
	// RFC 7644 §3.5.1), whatever they say.
	if _, ok := get(m, "password"); ok {
		return errPassword()
	}
	in, active, err := parseUser(m, modeReplace)
	if err != nil {
		return err
	}
	in.Active = active
	u, err := h.svc.ReplaceDirectoryUser(r.Context(), p.actor, p.set, p.orgID, id, in, func(cur *core.DirectoryUser) error {
		return ifMatch(r, etag(cur.UpdatedAt))
	})
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(u.UpdatedAt))
	return h.writeResource(w, r, http.StatusOK, renderUser(u, h.baseURL(r), false))
}

func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request) error {
	p := who(r)
	err := h.svc.RemoveDirectoryUser(r.Context(), p.actor, p.orgID, mux.Vars(r)["id"], func(cur *core.DirectoryUser) error {
		return ifMatch(r, etag(cur.UpdatedAt))
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) patchUser(w http.ResponseWriter, r *http.Request) error {
	p := who(r)
	id := mux.Vars(r)["id"]
	m, err := readJSON(r)
	if err != nil {
		return err
	}
	ops, err := parsePatch(m)
	if err != nil {
		return err
	}
	base := h.baseURL(r)
	for attempt := 0; ; attempt++ {
		cur, err := h.svc.GetDirectoryUser(r.Context(), p.orgID, p.actor.Source, id)
		if err != nil {
			return err
		}
		version := etag(cur.UpdatedAt)
		if err := ifMatch(r, version); err != nil {
			return err
		}
		doc := renderUser(cur, base, true)
		if err := applyPatch(doc, ops, userDocSchema); err != nil {
			return err
		}
		in, active, err := parseUser(doc, modePatch)
		if err != nil {
			return err
		}
		if cur.Email != "" && strings.TrimSpace(in.Email) == "" {
			// A user's email, once set, is kept (an admin may have set it for
			// a user the IdP sent without one): a PATCH may replace it (remove
			// then add, as Entra does) but not leave the user without one.
			return badRequest(scimerr.ScimTypeMutability, "emails: a user's email is kept once set; send the new address instead of removing it")
		}
		in.Active = active
		unassignRoster(doc, cur, &in)
		u, err := h.svc.ReplaceDirectoryUser(r.Context(), p.actor, p.set, p.orgID, id, in, func(now *core.DirectoryUser) error {
			if etag(now.UpdatedAt) != version {
				return errStale
			}
			return nil
		})
		if errors.Is(err, errStale) && attempt < 3 {
			continue
		}
		if errors.Is(err, errStale) {
			return &Error{Status: http.StatusConflict, Detail: "the user changed while the PATCH was applied; retry"}
		}
		if err != nil {
			return err
		}
		w.Header().Set("ETag", etag(u.UpdatedAt))
		return h.writeResource(w, r, http.StatusOK, renderUser(u, base, false))
	}
}

// ---- lists ----

// listParams are the query parameters of a list or .search request.
type listParams struct {
	filter     string
	startIndex int
	count      int
	sortBy     string
	sortOrder  string
	attrs      []string
	excluded   []string
}

func intParam(s, name string, def int) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return def, nil
	}
	n, ok := atoi(s)
	if !ok {
		return 0, badRequest(scimerr.ScimTypeInvalidValue, "%s: %q is not an integer", name, s)
	}
	return n, nil
}

func atoi(s string) (int, bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func queryParams(r *http.Request) (listParams, error) {
	q := r.URL.Query()
	lp := listParams{filter: q.Get("filter"), sortBy: q.Get("sortBy"), sortOrder: q.Get("sortOrder"),
		attrs: splitList(q.Get("attributes")), excluded: splitList(q.Get("excludedAttributes"))}
	var err error
	if lp.startIndex, err = intParam(q.Get("startIndex"), "startIndex", 1); err != nil {
		return lp, err
	}
	if lp.count, err = intParam(q.Get("count"), "count", defaultCount); err != nil {
		return lp, err
	}
	return lp, nil
}

// searchBody reads a POST …/.search request (RFC 7644 §3.4.3).
func searchBody(r *http.Request) (listParams, error) {
	m, err := readJSON(r)
	if err != nil {
		return listParams{}, err
	}
	if err := checkSchemas(m, URNSearch); err != nil {
		return listParams{}, err
	}
	lp := listParams{startIndex: 1, count: defaultCount}
	for _, f := range []struct {
		key string
		dst *string
	}{{"filter", &lp.filter}, {"sortBy", &lp.sortBy}, {"sortOrder", &lp.sortOrder}} {
		if *f.dst, err = getString(m, f.key, f.key); err != nil {
			return lp, err
		}
	}
	for _, f := range []struct {
		key string
		dst *int
	}{{"startIndex", &lp.startIndex}, {"count", &lp.count}} {
		if v, ok := get(m, f.key); ok {
			n, ok := atoi(fmt.Sprint(v))
			if !ok {
				return lp, fieldErr(f.key, "must be an integer, not %s", literal(v))
			}
			*f.dst = n
		}
	}
	for _, f := range []struct {
		key string
		dst *[]string
	}{{"attributes", &lp.attrs}, {"excludedAttributes", &lp.excluded}} {
		if v, ok := get(m, f.key); ok {
			list, ok := v.([]any)
			if !ok {
				return lp, fieldErr(f.key, "must be an array of strings")
			}
			for _, it := range list {
				s, ok := it.(string)
				if !ok {
					return lp, fieldErr(f.key, "must be an array of strings")
				}
				*f.dst = append(*f.dst, s)
			}
		}
	}
	return lp, nil
}

// page clamps startIndex and count (RFC 7644 §3.4.2.4).
func (lp *listParams) page() (offset, limit int) {
	if lp.startIndex < 1 {
		lp.startIndex = 1
	}
	if lp.count < 0 {
		lp.count = 0
	}
	if lp.count > maxCount {
		lp.count = maxCount
	}
	return lp.startIndex - 1, lp.count
}

func descending(order string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(order)) {
	case "", "ascending":
		return false, nil
	case "descending":
		return true, nil
	}
	return false, badRequest(scimerr.ScimTypeInvalidValue, "sortOrder: %q is not ascending or descending", order)
}

func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request) error {
	lp, err := queryParams(r)
	if err != nil {
		return err
	}
	return h.findUsers(w, r, lp)
}

func (h *Handler) searchUsers(w http.ResponseWriter, r *http.Request) error {
	lp, err := searchBody(r)
	if err != nil {
		return err
	}
	return h.findUsers(w, r, lp)
}

func (h *Handler) findUsers(w http.ResponseWriter, r *http.Request, lp listParams) error {
	p := who(r)
	f, err := parseFilter(lp.filter, userAttrs)
	if err != nil {
		return err
	}
	sortBy, err := sortAttr(lp.sortBy, userAttrs)
	if err != nil {
		return err
	}
	desc, err := descending(lp.sortOrder)
	if err != nil {
		return err
	}
	proj, err := newProjection(lp.attrs, lp.excluded, userDocSchema)
	if err != nil {
		return err
	}
	offset, limit := lp.page()
	users, total, err := h.svc.SearchDirectoryUsers(r.Context(), core.DirectoryQuery{
		OrgID: p.orgID, Source: p.actor.Source, ExcludeArchived: true, Filter: f,
		SortBy: sortBy, Descending: desc, Offset: offset, Limit: limit,
	})
	if err != nil {
		return err
	}
	base := h.baseURL(r)
	res := make([]any, 0, len(users))
	for i := range users {
		res = append(res, proj.apply(renderUser(&users[i], base, false)))
	}
	return writeJSON(w, http.StatusOK, listResponse(total, lp.startIndex, res))
}

func listResponse(total, start int, res []any) map[string]any {
	return map[string]any{
		"schemas":      []string{URNListResp},
		"totalResults": total,
		"startIndex":   start,
		"itemsPerPage": len(res),
		"Resources":    res,
	}
}

// writeResource writes one resource with the attributes/excludedAttributes
// of the request applied.
func (h *Handler) writeResource(w http.ResponseWriter, r *http.Request, status int, doc map[string]any) error {
	q := r.URL.Query()
	ds := userDocSchema
	if strings.Contains(r.URL.Path, "/Groups") {
		ds = groupDocSchema
	}
	proj, err := newProjection(splitList(q.Get("attributes")), splitList(q.Get("excludedAttributes")), ds)
	if err != nil {
		return err
	}
	return writeJSON(w, status, proj.apply(doc))
}
