package scim

import (
	"net/http"
	"strings"

	"github.com/elimity-com/scim/schema"
	"github.com/gorilla/mux"

	"github.com/rosterhq/roster/docs"
)

// Discovery (RFC 7644 §4): /ServiceProviderConfig, /Schemas and
// /ResourceTypes, served by roster from the schema definitions built with the
// library's schema package. The library's own handlers report itemsPerPage
// as the requested count and answer a filter with "Resources": null; these
// list exactly what they return, and refuse a filter with 403 as §4 asks
// ("clients cannot incorrectly assume that any matching conditions specified
// in a filter are true").

const (
	urnSchema       = "urn:ietf:params:scim:schemas:core:2.0:Schema"
	urnResourceType = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	// DocumentationPath is where the SCIM documentation the binary ships is
	// served (without authentication): ServiceProviderConfig's documentationUri.
	DocumentationPath = "/docs/scim.md"
)

type resourceType struct {
	id, endpoint, desc string
	schema             schema.Schema
	exts               []schema.Schema
}

var resourceTypes = []resourceType{
	{id: "User", endpoint: "/Users", desc: "User Account", schema: userSchema(), exts: []schema.Schema{enterpriseSchema(), rosterSchema()}},
	{id: "Group", endpoint: "/Groups", desc: "Group", schema: groupSchema()},
}

func (rt resourceType) render(base string) map[string]any {
	exts := make([]any, 0, len(rt.exts))
	for _, e := range rt.exts {
		exts = append(exts, map[string]any{"schema": e.ID, "required": false})
	}
	return map[string]any{
		"schemas": []string{urnResourceType}, "id": rt.id, "name": rt.id, "description": rt.desc,
		"endpoint": rt.endpoint, "schema": rt.schema.ID, "schemaExtensions": exts,
		"meta": map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/" + rt.id},
	}
}

func allSchemas() []schema.Schema {
	var out []schema.Schema
	for _, rt := range resourceTypes {
		out = append(out, rt.schema)
		out = append(out, rt.exts...)
	}
	return out
}

func renderSchema(s schema.Schema, base string) map[string]any {
	m := s.ToMap()
	m["meta"] = map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + s.ID}
	return m
}

func (h *Handler) spConfig(w http.ResponseWriter, r *http.Request) error {
	if err := noFilter(r); err != nil {
		return err
	}
	base := h.baseURL(r)
	return writeJSON(w, http.StatusOK, serviceProviderConfig(h.cfg.MaxBodyBytes, base, strings.TrimSuffix(base, "/scim/v2")+DocumentationPath))
}

// noFilter refuses a filter on a discovery endpoint.
func noFilter(r *http.Request) error {
	if strings.TrimSpace(r.URL.Query().Get("filter")) != "" {
		return &Error{Status: http.StatusForbidden, Detail: "filter: discovery endpoints do not take filters (RFC 7644 §4); read them whole"}
	}
	return nil
}

// discoveryList answers a list of discovery resources: paged by startIndex
// and count like any list, a filter refused with 403 (RFC 7644 §4).
func discoveryList(w http.ResponseWriter, r *http.Request, all []any) error {
	lp, err := queryParams(r)
	if err != nil {
		return err
	}
	if err := noFilter(r); err != nil {
		return err
	}
	offset, limit := lp.page()
	res := []any{}
	if offset < len(all) {
		res = all[offset:min(len(all), offset+limit)]
	}
	return writeJSON(w, http.StatusOK, listResponse(len(all), lp.startIndex, res))
}

func (h *Handler) listSchemas(w http.ResponseWriter, r *http.Request) error {
	base := h.baseURL(r)
	var all []any
	for _, s := range allSchemas() {
		all = append(all, renderSchema(s, base))
	}
	return discoveryList(w, r, all)
}

func (h *Handler) getSchema(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	for _, s := range allSchemas() {
		if strings.EqualFold(s.ID, id) {
			return writeJSON(w, http.StatusOK, renderSchema(s, h.baseURL(r)))
		}
	}
	return &Error{Status: http.StatusNotFound, Detail: "schema " + id + " not found"}
}

func (h *Handler) listResourceTypes(w http.ResponseWriter, r *http.Request) error {
	base := h.baseURL(r)
	var all []any
	for _, rt := range resourceTypes {
		all = append(all, rt.render(base))
	}
	return discoveryList(w, r, all)
}

func (h *Handler) getResourceType(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	for _, rt := range resourceTypes {
		if strings.EqualFold(rt.id, id) {
			return writeJSON(w, http.StatusOK, rt.render(h.baseURL(r)))
		}
	}
	return &Error{Status: http.StatusNotFound, Detail: "resource type " + id + " not found"}
}

// documentation serves the SCIM documentation the binary ships.
func documentation(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	_, _ = w.Write(docs.SCIM)
}
