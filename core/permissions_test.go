package core_test

import (
	"strings"
	"testing"

	"github.com/rosterhq/roster/core"
)

// Every permission has its own sentence, and says who may.
func TestEveryPermissionHasItsOwnSentence(t *testing.T) {
	seen := map[string]core.Permission{}
	for _, p := range core.Permissions {
		s := p.Sentence()
		if prev, ok := seen[s]; ok {
			t.Errorf("permissions %d and %d share the sentence %q", prev, p, s)
		}
		seen[s] = p
		if !strings.HasPrefix(s, "only owners and admins") || s == "only owners and admins do this" {
			t.Errorf("permission %d: %q does not say who may and what", p, s)
		}
	}
	if len(seen) < 8 {
		t.Fatalf("%d permissions", len(seen))
	}
}
