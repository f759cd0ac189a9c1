package scimbench

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	escim "github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
	filter "github.com/scim2/filter-parser/v2"
)

// The in-memory baseline: a handler built on the same SCIM library
// (github.com/elimity-com/scim) that keeps users and groups in maps, with an
// index on userName so that "userName eq" is a map lookup. It is what the
// library gives for free; roster's figures are compared with it.

type memUsers struct {
	mu     sync.RWMutex
	byID   map[string]escim.ResourceAttributes
	byName map[string]string
	order  []string
	seq    int
}

func newMemUsers() *memUsers {
	return &memUsers{byID: map[string]escim.ResourceAttributes{}, byName: map[string]string{}}
}

// clone copies a stored resource: the library writes id, schemas and meta
// into the attributes it is given, and requests run concurrently.
func clone(a escim.ResourceAttributes) escim.ResourceAttributes {
	out := make(escim.ResourceAttributes, len(a)+3)
	for k, v := range a {
		out[k] = v
	}
	return out
}

func (m *memUsers) res(id string, a escim.ResourceAttributes) escim.Resource {
	now := time.Now()
	return escim.Resource{ID: id, Attributes: clone(a), Meta: escim.Meta{Created: &now, LastModified: &now, Version: fmt.Sprintf(`W/"%d"`, now.UnixNano())}}
}

func (m *memUsers) Create(_ *http.Request, a escim.ResourceAttributes) (escim.Resource, error) {
	name := strings.ToLower(fmt.Sprint(a["userName"]))
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byName[name]; ok {
		return escim.Resource{}, scimerr.ScimErrorUniqueness
	}
	m.seq++
	id := fmt.Sprintf("mem-%08d", m.seq)
	m.byID[id], m.byName[name] = a, id
	m.order = append(m.order, id)
	return m.res(id, a), nil
}

func (m *memUsers) Get(_ *http.Request, id string) (escim.Resource, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	a, ok := m.byID[id]
	if !ok {
		return escim.Resource{}, scimerr.ScimErrorResourceNotFound(id)
	}
	return m.res(id, a), nil
}

func (m *memUsers) GetAll(_ *http.Request, p escim.ListRequestParams) (escim.Page, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	page := escim.Page{Resources: []escim.Resource{}}
	if p.FilterValidator != nil {
		if e, ok := p.FilterValidator.GetFilter().(*filter.AttributeExpression); ok && strings.EqualFold(e.AttributePath.AttributeName, "userName") && e.Operator == filter.EQ {
			if id, ok := m.byName[strings.ToLower(fmt.Sprint(e.CompareValue))]; ok {
				page.TotalResults = 1
				page.Resources = append(page.Resources, m.res(id, m.byID[id]))
			}
			return page, nil
		}
	}
	for _, id := range m.order {
		a := m.byID[id]
		if p.FilterValidator != nil && p.FilterValidator.PassesFilter(a) != nil {
			continue
		}
		page.TotalResults++
		if page.TotalResults >= p.StartIndex && len(page.Resources) < p.Count {
			page.Resources = append(page.Resources, m.res(id, a))
		}
	}
	return page, nil
}

func (m *memUsers) Replace(_ *http.Request, id string, a escim.ResourceAttributes) (escim.Resource, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byID[id]; !ok {
		return escim.Resource{}, scimerr.ScimErrorResourceNotFound(id)
	}
	m.byID[id] = a
	return m.res(id, a), nil
}

func (m *memUsers) Delete(_ *http.Request, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.byID, id)
	return nil
}

func (m *memUsers) Patch(_ *http.Request, id string, ops []escim.PatchOperation) (escim.Resource, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.byID[id]
	if !ok {
		return escim.Resource{}, scimerr.ScimErrorResourceNotFound(id)
	}
	na := escim.ResourceAttributes{}
	for k, v := range a {
		na[k] = v
	}
	for _, op := range ops {
		if op.Path == nil {
			if vm, ok := op.Value.(map[string]any); ok {
				for k, v := range vm {
					na[k] = v
				}
			}
			continue
		}
		na[op.Path.AttributePath.AttributeName] = op.Value
	}
	m.byID[id] = na
	return m.res(id, na), nil
}

type memGroups struct {
	mu    sync.Mutex
	byID  map[string]escim.ResourceAttributes
	order []string
	seq   int
}

func (g *memGroups) res(id string, a escim.ResourceAttributes) escim.Resource {
	return escim.Resource{ID: id, Attributes: clone(a)}
}

func (g *memGroups) Create(_ *http.Request, a escim.ResourceAttributes) (escim.Resource, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seq++
	id := fmt.Sprintf("grp-%08d", g.seq)
	g.byID[id] = a
	g.order = append(g.order, id)
	return g.res(id, a), nil
}

func (g *memGroups) Get(_ *http.Request, id string) (escim.Resource, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	a, ok := g.byID[id]
	if !ok {
		return escim.Resource{}, scimerr.ScimErrorResourceNotFound(id)
	}
	return g.res(id, a), nil
}

func (g *memGroups) GetAll(_ *http.Request, p escim.ListRequestParams) (escim.Page, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	page := escim.Page{Resources: []escim.Resource{}}
	for _, id := range g.order {
		page.TotalResults++
		if len(page.Resources) < p.Count {
			page.Resources = append(page.Resources, g.res(id, g.byID[id]))
		}
	}
	return page, nil
}

func (g *memGroups) Replace(_ *http.Request, id string, a escim.ResourceAttributes) (escim.Resource, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.byID[id] = a
	return g.res(id, a), nil
}

func (g *memGroups) Delete(_ *http.Request, id string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.byID, id)
	return nil
}

func (g *memGroups) Patch(_ *http.Request, id string, ops []escim.PatchOperation) (escim.Resource, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	a, ok := g.byID[id]
	if !ok {
		return escim.Resource{}, scimerr.ScimErrorResourceNotFound(id)
	}
	for _, op := range ops {
		if op.Path != nil && op.Path.AttributePath.AttributeName == "members" && op.Op == escim.PatchOperationAdd {
			cur, _ := a["members"].([]any)
			if vals, ok := op.Value.([]any); ok {
				a["members"] = append(cur, vals...)
			}
		}
	}
	return escim.Resource{ID: id, Attributes: escim.ResourceAttributes{"displayName": a["displayName"]}}, nil
}

// NewMemoryHandler is the in-memory baseline, served at /scim/v2 behind a
// static bearer token check.
func NewMemoryHandler(token string) (http.Handler, error) {
	schema.SetAllowStringValues(true)
	srv, err := escim.NewServer(&escim.ServerArgs{
		ServiceProviderConfig: &escim.ServiceProviderConfig{SupportFiltering: true, SupportPatch: true, MaxResults: 1000},
		ResourceTypes: []escim.ResourceType{
			{ID: optional.NewString("User"), Name: "User", Endpoint: "/Users", Schema: schema.CoreUserSchema(),
				SchemaExtensions: []escim.SchemaExtension{{Schema: schema.ExtensionEnterpriseUser()}}, Handler: newMemUsers()},
			{ID: optional.NewString("Group"), Name: "Group", Endpoint: "/Groups", Schema: schema.CoreGroupSchema(),
				Handler: &memGroups{byID: map[string]escim.ResourceAttributes{}}},
		},
	})
	if err != nil {
		return nil, err
	}
	inner := http.StripPrefix("/scim", srv)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, r)
	}), nil
}
