package core

import (
	"slices"
	"testing"

	"github.com/google/uuid"
)

// Entity ids are UUIDv7: unique, and in creation order when sorted as
// strings, which is what keeps the id indexes append-only under bulk creates.
func TestNewIDsAreVersion7InCreationOrder(t *testing.T) {
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = newID()
		u, err := uuid.Parse(ids[i])
		if err != nil || u.Version() != 7 {
			t.Fatalf("id %q: version %d, %v", ids[i], u.Version(), err)
		}
	}
	if !slices.IsSorted(ids) {
		t.Fatal("ids created one after another do not sort in creation order")
	}
	if len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Fatal("duplicate ids")
	}
}
