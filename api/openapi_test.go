package api_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/gorilla/mux"
	"go.yaml.in/yaml/v3"

	"github.com/rosterhq/roster/api"
	"github.com/rosterhq/roster/sso"
)

// Every mounted route is documented in docs/openapi.yaml, with its methods.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "docs", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.yaml is not valid YAML: %v", err)
	}
	served := map[string]bool{}
	r := mux.NewRouter()
	a, err := api.New(api.Config{}, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	a.Mount(r)
	// The SSO door's routes are documented here too.
	d, err := sso.New(nil, sso.Options{CSRFToken: api.CSRFToken}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Mount(r)
	n := 0
	err = r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		path, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		methods, err := route.GetMethods()
		if err != nil {
			return nil // a subrouter, not an endpoint
		}
		n++
		served[path] = true
		ops, ok := doc.Paths[path]
		if !ok {
			t.Errorf("%s is served but not in docs/openapi.yaml", path)
			return nil
		}
		for _, m := range methods {
			if _, ok := ops[map[string]string{"GET": "get", "POST": "post", "PATCH": "patch", "PUT": "put", "DELETE": "delete"}[m]]; !ok {
				t.Errorf("%s %s is served but not documented", m, path)
			}
		}
		return nil
	})
	if err != nil || n < 10 {
		t.Fatalf("walked %d routes: %v", n, err)
	}
	// And vice versa: nothing documented that is not served (health checks
	// belong to the server, /metrics to the daemon's wiring).
	for path := range doc.Paths {
		if path != "/healthz" && path != "/readyz" && path != "/metrics" && !served[path] {
			t.Errorf("docs/openapi.yaml documents %s, which is not served", path)
		}
	}
}
