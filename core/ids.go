package core

import "github.com/google/uuid"

// newID returns a new entity id: a UUIDv7. Its leading timestamp keeps the
// ids of rows created together next to each other in every index keyed by
// id (users.id, group members, history targets), so a sync that creates
// 100,000 users appends to those indexes instead of writing all over them.
// The creation time it reveals is public anyway (created_at).
func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return newID()
	}
	return id.String()
}
