package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// The API's document, loaded and validated once by kin-openapi.
var (
	specOnce   sync.Once
	specDoc    *openapi3.T
	specRouter routers.Router
	specErr    error
)

func openAPISpec(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		specDoc, specErr = loader.LoadFromFile(filepath.Join("..", "docs", "openapi.yaml"))
		if specErr != nil {
			return
		}
		if specErr = specDoc.Validate(context.Background()); specErr != nil {
			return
		}
		// Route by path alone: the test server listens on its own port,
		// not on the document's example server.
		routed := *specDoc
		routed.Servers = nil
		specRouter, specErr = gorillamux.NewRouter(&routed)
	})
	if specErr != nil {
		t.Fatalf("docs/openapi.yaml: %v", specErr)
	}
	return specDoc, specRouter
}

// The document is valid OpenAPI 3 by a real validator.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc, _ := openAPISpec(t)
	if doc.Paths.Len() < 30 {
		t.Fatalf("only %d paths loaded", doc.Paths.Len())
	}
}

// recorder keeps what the handler answers, to be validated before it is
// passed on.
type recorder struct {
	hdr    http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.hdr }
func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}

// serveValidated serves h for a test, validating every /api/v1 response
// against docs/openapi.yaml: a response whose status the operation does
// not list, or whose body does not match the documented schema, fails the
// test naming the route, the status and the problem. Requests are not
// validated (tests send bad ones on purpose); routes or methods the
// document does not have are left to TestOpenAPIDocumentsEveryRoute.
func serveValidated(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	_, router := openAPISpec(t)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !strings.HasPrefix(req.URL.Path, "/api/v1/") {
			h.ServeHTTP(w, req)
			return
		}
		route, params, routeErr := router.FindRoute(req)
		rec := &recorder{hdr: w.Header()}
		h.ServeHTTP(rec, req)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		if routeErr == nil {
			in := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
				Status:                 rec.status,
				Header:                 rec.hdr,
				Body:                   io.NopCloser(bytes.NewReader(rec.body.Bytes())),
				Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
			}
			if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
				t.Errorf("openapi: %s %s (route %s) answered %d, which docs/openapi.yaml does not allow: %s\nbody: %.300s",
					req.Method, req.URL.Path, route.Path, rec.status, describe(err), rec.body.String())
			}
		} else if !errors.Is(routeErr, routers.ErrPathNotFound) && !errors.Is(routeErr, routers.ErrMethodNotAllowed) {
			t.Errorf("openapi: %s %s: %v", req.Method, req.URL.Path, routeErr)
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
	}))
	t.Cleanup(hs.Close)
	return hs
}

// describe flattens kin-openapi's errors to one readable line each.
func describe(err error) string {
	var me openapi3.MultiError
	if errors.As(err, &me) {
		parts := make([]string, 0, len(me))
		for _, e := range me {
			parts = append(parts, describe(e))
		}
		return strings.Join(parts, "; ")
	}
	var re *openapi3filter.ResponseError
	if errors.As(err, &re) {
		if re.Err != nil {
			return re.Reason + ": " + describe(re.Err)
		}
		return re.Reason
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		return "at " + strings.Join(se.JSONPointer(), ".") + ": " + se.Reason
	}
	return err.Error()
}

// errorsTB records what serveValidated reports instead of failing.
type errorsTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (e *errorsTB) Errorf(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.errs = append(e.errs, fmt.Sprintf(format, args...))
}

// The validator itself: an undocumented status and a body off its schema
// are reported naming the route, the status and the problem; a documented
// answer is not.
func TestResponseValidatorReportsRouteStatusAndProblem(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		status     int
		body       string
		want       []string
	}{
		{"undocumented status", "/api/v1/me", http.StatusTeapot, `{"error":{"code":"x","message":"y"}}`, []string{"GET /api/v1/me", "418", "status is not supported"}},
		{"body off schema", "/api/v1/me", http.StatusOK, `{"role":"emperor"}`, []string{"GET /api/v1/me", "200", "role"}},
		{"error body off schema", "/api/v1/users/u1", http.StatusNotFound, `{"error":{"error":{"code":"not_found"}}}`, []string{"route /api/v1/users/{id}", "404", `property "error" is unsupported`}},
		{"documented", "/api/v1/me", http.StatusOK, `{"role":"owner","username":"a","capabilities":{"manage_users":true,"disable_users":true,"archive_users":true,"set_admin":true,` +
			`"manage_groups":true,"manage_apps":true,"create_apps":true,"org_settings":true,"password_policy":true,"metadata_template":true,"mail_templates":true,"tokens":true,"ldap":true,"audit_log":true,"grantable_roles":["owner"]}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &errorsTB{TB: t}
			hs := serveValidated(rec, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			res, err := http.Get(hs.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Fatalf("the validator changed the status: %d", res.StatusCode)
			}
			if tc.want == nil {
				if len(rec.errs) != 0 {
					t.Fatalf("a documented answer was reported: %v", rec.errs)
				}
				return
			}
			if len(rec.errs) != 1 {
				t.Fatalf("reports: %v", rec.errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(rec.errs[0], w) {
					t.Errorf("report %q does not say %q", rec.errs[0], w)
				}
			}
		})
	}
}
