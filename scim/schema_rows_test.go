package scim_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/rosterhq/roster/core"
)

// Every document attribute of the schema travels through SCIM with no code
// of its own: for each row of core.UserSchema with a SCIM path, a value sent
// at that path is stored under the row's name, rendered back at the path,
// and (when the row is searchable) found by a filter on it. A new row is
// covered by this test without editing it.
func TestEverySchemaRowTravelsThroughSCIM(t *testing.T) {
	e := newEnv(t)
	for i, def := range core.DocumentAttributes() {
		if def.SCIM == "" {
			continue
		}
		t.Run(def.Name, func(t *testing.T) {
			value := fmt.Sprintf("v%d-%s", i, strings.ReplaceAll(def.Name, "_", ""))
			doc := user(fmt.Sprintf("row%d@example.com", i), nil)
			obj, key := splitPath(def.SCIM)
			var sent any = value
			if def.Kind == core.KindMulti {
				item := map[string]any{"type": "other"}
				if len(def.Parts) > 0 {
					item["locality"] = value
				} else {
					item["value"] = value
					switch def.Name {
					case core.AttrNameEmails:
						item["value"] = value + "@example.org"
					case core.AttrNamePhones:
						item["value"] = fmt.Sprintf("+32 9 555 %04d", i)
					}
				}
				sent = []any{item}
			}
			holder := doc
			if obj != "" {
				o, _ := doc[obj].(map[string]any)
				if o == nil {
					o = map[string]any{}
					doc[obj] = o
				}
				holder = o
			}
			holder[key] = sent
			if strings.HasPrefix(obj, "urn:") {
				doc["schemas"] = []string{"urn:ietf:params:scim:schemas:core:2.0:User", obj}
			}
			r := e.must(201, e.do("POST", "/Users", doc))
			got := r.body
			if obj != "" {
				got, _ = r.body[obj].(map[string]any)
			}
			if !jsonEqual(got[key], sent) {
				t.Fatalf("%s came back as %v, sent %v", def.SCIM, got[key], sent)
			}
			v, err := e.svc.GetUser(context.Background(), e.orgID, r.str("id"))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := v.Attributes[def.Name]; !ok {
				t.Fatalf("not stored under %s: %v", def.Name, v.Attributes)
			}
			if !def.Search {
				return
			}
			path := def.SCIM
			if def.Kind == core.KindMulti {
				sub := "value"
				if len(def.Parts) > 0 {
					sub = "locality"
				}
				path += "." + sub
			}
			want := value
			switch def.Name {
			case core.AttrNameEmails:
				want += "@example.org"
			case core.AttrNamePhones:
				want = fmt.Sprintf("+32 9 555 %04d", i)
			}
			f := e.must(200, e.do("GET", "/Users?filter="+urlEscape(path+` eq "`+strings.ToUpper(want)+`"`), nil))
			if f.str("totalResults") != "1" || f.str("Resources.0.id") != r.str("id") {
				t.Errorf("filter on %s: %s", path, f.raw)
			}
		})
	}
}

func splitPath(p string) (string, string) {
	if strings.HasPrefix(p, "urn:") {
		i := strings.LastIndex(p, ":")
		return p[:i], p[i+1:]
	}
	if o, k, ok := strings.Cut(p, "."); ok {
		return o, k
	}
	return "", p
}

func urlEscape(s string) string { return url.QueryEscape(s) }
