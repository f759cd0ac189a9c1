package scim

import (
	"fmt"
	"net/http"
	"strings"

	scimerr "github.com/elimity-com/scim/errors"
	"github.com/gorilla/mux"
	filter "github.com/scim2/filter-parser/v2"

	"github.com/rosterhq/roster/core"
)

func renderGroup(g *core.DirectoryGroup, base string) map[string]any {
	m := map[string]any{
		"schemas":     []string{URNGroup},
		"id":          g.ID,
		"displayName": g.Name,
		"meta": map[string]any{
			"resourceType": "Group", "created": timeStr(g.CreatedAt), "lastModified": timeStr(g.UpdatedAt),
			"location": base + "/Groups/" + g.ID, "version": etag(g.UpdatedAt),
		},
	}
	if g.ExternalID != "" {
		m["externalId"] = g.ExternalID
	}
	if len(g.Members) > 0 { // no members: left out (RFC 7643 §2.5), not []
		ms := make([]any, len(g.Members))
		for i, mr := range g.Members {
			ms[i] = map[string]any{"value": mr.ID, "display": mr.Username, "$ref": base + "/Users/" + mr.ID, "type": "User"}
		}
		m["members"] = ms
	}
	return m
}

// memberIDs reads the ids of a members value: [{"value": id, "$ref": …}, …].
// Entra sends "$ref": null; nested groups are not supported.
func memberIDs(v any, attr string) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	var out []string
	for i, it := range asList(v) {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, fieldErr(attr, "element %d must be an object with a value, not %s", i, jsonType(it))
		}
		if t, ok := get(m, "type"); ok {
			if s, _ := t.(string); strings.EqualFold(s, "Group") {
				return nil, fieldErr(attr, "element %d is a group: roster groups hold users only", i)
			}
		}
		id, err := getString(m, "value", fmt.Sprintf("%s[%d].value", attr, i))
		if err != nil {
			return nil, err
		}
		if id == "" {
			return nil, fieldErr(fmt.Sprintf("%s[%d].value", attr, i), "is required")
		}
		out = append(out, id)
	}
	return out, nil
}

// parseGroup reads a POST or PUT group body. Unknown schema URNs besides
// the core one (Entra adds its own) are ignored.
func parseGroup(m map[string]any) (name, externalID string, members []string, err error) {
	if err = checkSchemas(m, URNGroup); err != nil {
		return
	}
	v, ok := get(m, "displayName")
	if !ok {
		err = fieldErr("displayName", "is required")
		return
	}
	if name, ok = v.(string); !ok {
		err = fieldErr("displayName", "must be a string, not %s", jsonType(v))
		return
	}
	if externalID, err = getString(m, "externalId", "externalId"); err != nil {
		return
	}
	mv, _ := get(m, "members")
	if mv != nil {
		if _, ok := mv.([]any); !ok {
			err = fieldErr("members", "must be an array, not %s", jsonType(mv))
			return
		}
	}
	members, err = memberIDs(mv, "members")
	if members == nil && err == nil {
		members = []string{}
	}
	return
}

func (h *Handler) createGroup(w http.ResponseWriter, r *http.Request) error {
	p := who(r)
	m, err := readJSON(r)
	if err != nil {
		return err
	}
	name, ext, members, err := parseGroup(m)
	if err != nil {
		return err
	}
	g, err := h.svc.CreateDirectoryGroup(r.Context(), p.actor, p.set, p.orgID, name, ext, members)
	if err != nil {
		return err
	}
	base := h.baseURL(r)
	w.Header().Set("Location", base+"/Groups/"+g.ID)
	w.Header().Set("ETag", etag(g.UpdatedAt))
	return h.writeResource(w, r, http.StatusCreated, renderGroup(g, base))
}

func (h *Handler) groupProjection(r *http.Request) (*projection, error) {
	q := r.URL.Query()
	return newProjection(splitList(q.Get("attributes")), splitList(q.Get("excludedAttributes")), groupDocSchema)
}

func (h *Handler) getGroup(w http.ResponseWriter, r *http.Request) error {
	p := who(r)
	proj, err := h.groupProjection(r)
	if err != nil {
		return err
	}
	g, err := h.svc.GetDirectoryGroup(r.Context(), p.orgID, p.actor.Source, mux.Vars(r)["id"], proj.wants("members"))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(g.UpdatedAt))
	if notModified(w, r, etag(g.UpdatedAt)) {
		return nil
	}
	return writeJSON(w, http.StatusOK, proj.apply(renderGroup(g, h.baseURL(r))))
}

func (h *Handler) respondGroup(w http.ResponseWriter, r *http.Request, id string) error {
	p := who(r)
	proj, err := h.groupProjection(r)
	if err != nil {
		return err
	}
	g, err := h.svc.GetDirectoryGroup(r.Context(), p.orgID, p.actor.Source, id, proj.wants("members"))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(g.UpdatedAt))
	return writeJSON(w, http.StatusOK, proj.apply(renderGroup(g, h.baseURL(r))))
}

func groupCheck(r *http.Request) func(*core.Group) error {
	return func(g *core.Group) error { return ifMatch(r, etag(g.UpdatedAt)) }
}

func (h *Handler) replaceGroup(w http.ResponseWriter, r *http.Request) error {
	p := who(r)
	id := mux.Vars(r)["id"]
	m, err := readJSON(r)
	if err != nil {
		return err
	}
	// id and meta are readOnly: ignored in a PUT body (RFC 7643 §7).
	name, ext, members, err := parseGroup(m)
	if err != nil {
		return err
	}
	if _, err := h.svc.ChangeDirectoryGroup(r.Context(), p.actor, p.set, p.orgID, id,
		core.GroupChange{Name: &name, ExternalID: &ext, SetMembers: members}, groupCheck(r)); err != nil {
		return err
	}
	return h.respondGroup(w, r, id)
}

func (h *Handler) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	p := who(r)
	if err := h.svc.DeleteDirectoryGroup(r.Context(), p.actor, p.set, p.orgID, mux.Vars(r)["id"], groupCheck(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// groupPatch accumulates PATCH operations on a group into one core change,
// without reading the members: adds and removes become bulk statements.
type groupPatch struct {
	ch     core.GroupChange
	setIDs map[string]bool // when members were replaced: the new set
	add    map[string]bool
	remove map[string]bool
}

func (gp *groupPatch) members(op string, ids []string) {
	if op == "replace" {
		gp.setIDs = map[string]bool{}
		gp.add, gp.remove = nil, nil
		for _, id := range ids {
			gp.setIDs[id] = true
		}
		return
	}
	for _, id := range ids {
		switch {
		case gp.setIDs != nil && op == "add":
			gp.setIDs[id] = true
		case gp.setIDs != nil:
			delete(gp.setIDs, id)
		case op == "add":
			if gp.add == nil {
				gp.add = map[string]bool{}
			}
			gp.add[id] = true
			delete(gp.remove, id)
		default:
			if gp.remove == nil {
				gp.remove = map[string]bool{}
			}
			gp.remove[id] = true
			delete(gp.add, id)
		}
	}
}

func (gp *groupPatch) removeAll() {
	gp.setIDs = map[string]bool{}
	gp.add, gp.remove = nil, nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func (gp *groupPatch) change() core.GroupChange {
	ch := gp.ch
	if gp.setIDs != nil {
		ch.SetMembers = keys(gp.setIDs)
	} else {
		ch.Add, ch.Remove = keys(gp.add), keys(gp.remove)
	}
	return ch
}

func (gp *groupPatch) apply(op patchOp) error {
	if op.path == "" {
		for k, v := range op.value.(map[string]any) {
			switch {
			case strings.EqualFold(k, "schemas"), strings.EqualFold(k, "meta"), strings.EqualFold(k, "id"):
				continue
			}
			if err := gp.apply(patchOp{op: op.op, path: k, value: v}); err != nil {
				return err
			}
		}
		return nil
	}
	t, err := groupDocSchema.resolve(op.path)
	if err != nil {
		return err
	}
	switch strings.ToLower(t.info.name) {
	case "displayname":
		if op.op == "remove" {
			return badRequest(scimerr.ScimTypeMutability, "displayName is required and cannot be removed")
		}
		s, ok := op.value.(string)
		if !ok {
			return fieldErr("displayName", "must be a string, not %s", jsonType(op.value))
		}
		gp.ch.Name = &s
	case "externalid":
		s := ""
		if op.op != "remove" {
			var ok bool
			if s, ok = op.value.(string); !ok {
				return fieldErr("externalId", "must be a string, not %s", jsonType(op.value))
			}
		}
		gp.ch.ExternalID = &s
	case "members":
		if t.filter != nil {
			if op.op != "remove" {
				return badRequest(scimerr.ScimTypeInvalidPath, "path %q: only remove takes a members filter", op.path)
			}
			ids, ok := valueEqIDs(t.filter)
			if !ok || t.valueSub != "" {
				return badRequest(scimerr.ScimTypeInvalidFilter, "path %q: a members filter must be value eq \"<id>\" (joined by or)", op.path)
			}
			gp.members("remove", ids)
			return nil
		}
		if t.sub != "" {
			return badRequest(scimerr.ScimTypeInvalidPath, "path %q: members sub-attributes cannot be changed", op.path)
		}
		ids, err := memberIDs(op.value, "members")
		if err != nil {
			return err
		}
		if op.op == "remove" && op.value == nil {
			gp.removeAll()
			return nil
		}
		if op.op == "replace" && ids == nil {
			ids = []string{}
		}
		gp.members(op.op, ids)
	}
	return nil
}

// valueEqIDs reads `value eq "a" or value eq "b"`.
func valueEqIDs(e filter.Expression) ([]string, bool) {
	switch x := e.(type) {
	case *filter.AttributeExpression:
		s, ok := x.CompareValue.(string)
		if !ok || !strings.EqualFold(x.AttributePath.AttributeName, "value") || !strings.EqualFold(string(x.Operator), "eq") {
			return nil, false
		}
		return []string{s}, true
	case *filter.LogicalExpression:
		if !strings.EqualFold(string(x.Operator), "or") {
			return nil, false
		}
		l, ok := valueEqIDs(x.Left)
		if !ok {
			return nil, false
		}
		r, ok := valueEqIDs(x.Right)
		return append(l, r...), ok
	}
	return nil, false
}

func (h *Handler) patchGroup(w http.ResponseWriter, r *http.Request) error {
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
	var gp groupPatch
	for i, op := range ops {
		if err := gp.apply(op); err != nil {
			if e, ok := err.(*Error); ok {
				e.Detail = fmt.Sprintf("Operations[%d]: %s", i, e.Detail)
			}
			return err
		}
	}
	if _, err := h.svc.ChangeDirectoryGroup(r.Context(), p.actor, p.set, p.orgID, id, gp.change(), groupCheck(r)); err != nil {
		return err
	}
	return h.respondGroup(w, r, id)
}

func (h *Handler) listGroups(w http.ResponseWriter, r *http.Request) error {
	lp, err := queryParams(r)
	if err != nil {
		return err
	}
	return h.findGroups(w, r, lp)
}

func (h *Handler) searchGroups(w http.ResponseWriter, r *http.Request) error {
	lp, err := searchBody(r)
	if err != nil {
		return err
	}
	return h.findGroups(w, r, lp)
}

func (h *Handler) findGroups(w http.ResponseWriter, r *http.Request, lp listParams) error {
	p := who(r)
	f, err := parseFilter(lp.filter, groupAttrs)
	if err != nil {
		return err
	}
	sortBy, err := sortAttr(lp.sortBy, groupAttrs)
	if err != nil {
		return err
	}
	desc, err := descending(lp.sortOrder)
	if err != nil {
		return err
	}
	proj, err := newProjection(lp.attrs, lp.excluded, groupDocSchema)
	if err != nil {
		return err
	}
	offset, limit := lp.page()
	groups, total, err := h.svc.SearchDirectoryGroups(r.Context(), core.GroupSearch{
		OrgID: p.orgID, Source: p.actor.Source, Filter: f, SortBy: sortBy, Descending: desc, Offset: offset, Limit: limit,
	}, proj.wants("members"))
	if err != nil {
		return err
	}
	base := h.baseURL(r)
	res := make([]any, 0, len(groups))
	for i := range groups {
		res = append(res, proj.apply(renderGroup(&groups[i], base)))
	}
	return writeJSON(w, http.StatusOK, listResponse(total, lp.startIndex, res))
}
