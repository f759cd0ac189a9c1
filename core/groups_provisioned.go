package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Directory-group use cases: groups of a directory's own source, with bulk
// membership changes in one transaction and role rules re-applied to the
// members whose groups changed.

// DirectoryGroup is a group with (when asked for) its members.
type DirectoryGroup struct {
	Group
	Members []MemberRef // nil when not loaded
}

// GroupChange is a change to a directory group. Nil fields are left alone.
type GroupChange struct {
	Name       *string
	ExternalID *string
	// SetMembers, when non-nil, is the exact new membership.
	SetMembers []string
	Add        []string
	Remove     []string
}

// MaxGroupChange bounds the member ids of one change.
const MaxGroupChange = 100_000

func directoryGroup(ctx context.Context, tx Tx, orgID, source, id string) (*Group, error) {
	g, err := tx.GroupByID(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	if g.Source != source {
		return nil, &NotFoundError{Kind: "group", Key: id}
	}
	return g, nil
}

// SearchDirectoryGroups runs a filtered, paged group search in the store.
func (s *Service) SearchDirectoryGroups(ctx context.Context, q GroupSearch, withMembers bool) ([]DirectoryGroup, int, error) {
	if err := ValidateFilter(q.Filter, GroupFilterAttrs); err != nil {
		return nil, 0, err
	}
	var out []DirectoryGroup
	var total int
	err := s.store.View(ctx, func(tx Tx) error {
		gs, n, err := tx.SearchGroups(ctx, q)
		if err != nil {
			return err
		}
		total = n
		out = make([]DirectoryGroup, len(gs))
		for i := range gs {
			out[i].Group = gs[i]
			if withMembers {
				if out[i].Members, err = tx.GroupMemberRefs(ctx, gs[i].ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return out, total, err
}

// GetDirectoryGroup returns one group of the directory's source.
func (s *Service) GetDirectoryGroup(ctx context.Context, orgID, source, id string, withMembers bool) (*DirectoryGroup, error) {
	var out *DirectoryGroup
	err := s.store.View(ctx, func(tx Tx) error {
		g, err := directoryGroup(ctx, tx, orgID, source, id)
		if err != nil {
			return err
		}
		out = &DirectoryGroup{Group: *g}
		if withMembers {
			out.Members, err = tx.GroupMemberRefs(ctx, g.ID)
		}
		return err
	})
	return out, err
}

func checkGroupName(p *problems, name string) {
	if strings.TrimSpace(name) == "" {
		p.add("name", "is required")
	}
	checkText(p, "name", name, MaxNameLen)
}

// checkMembers verifies that every id is a non-archived user of the source.
func checkMembers(ctx context.Context, tx Tx, orgID, source string, ids []string) ([]string, error) {
	if len(ids) > MaxGroupChange {
		return nil, invalid("members", "at most %d members can be changed at once", MaxGroupChange)
	}
	want := slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(want) == 0 {
		return want, nil
	}
	found, err := tx.ExistingUserIDs(ctx, orgID, source, want)
	if err != nil {
		return nil, err
	}
	if len(found) != len(want) {
		slices.Sort(found)
		for _, id := range want {
			if _, ok := slices.BinarySearch(found, id); !ok {
				return nil, invalid("members", "%q is not a user of this SCIM client", id)
			}
		}
	}
	return want, nil
}

// recordMembers writes one history entry per user whose membership changed,
// in a few multi-row statements.
func (s *Service) recordMembers(ctx context.Context, tx Tx, a Actor, orgID, action, group string, userIDs []string) error {
	if len(userIDs) == 0 {
		return nil
	}
	after := snapshotJSON(map[string]string{"group": group})
	now := s.now()
	hs := make([]HistoryEntry, len(userIDs))
	for i, id := range userIDs {
		hs[i] = HistoryEntry{OrgID: orgID, At: now, ActorKind: a.Kind, ActorID: a.ID, ActorName: a.Name, Action: action,
			TargetType: "user", TargetID: id, After: after, RequestID: a.RequestID, TokenID: a.TokenID, TokenCreatedBy: a.TokenCreatedBy}
	}
	if err := tx.InsertHistoryBatch(ctx, hs); err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	return nil
}

// CreateDirectoryGroup creates a group of the actor's source with members.
func (s *Service) CreateDirectoryGroup(ctx context.Context, a Actor, set *DirectorySettings, orgID, name, externalID string, members []string) (*DirectoryGroup, error) {
	var p problems
	checkGroupName(&p, name)
	checkText(&p, "external_id", externalID, MaxExternalID)
	if err := p.err(); err != nil {
		return nil, err
	}
	now := s.now()
	g := &Group{ID: newID(), OrgID: orgID, Name: strings.TrimSpace(name), Source: a.Source, ExternalID: externalID, CreatedAt: now, UpdatedAt: now}
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := uniqueGroup(ctx, tx, g); err != nil {
			return err
		}
		ids, err := checkMembers(ctx, tx, orgID, a.Source, members)
		if err != nil {
			return err
		}
		if err := tx.InsertGroup(ctx, g); err != nil {
			return err
		}
		if err := s.record(ctx, tx, a, orgID, "group.create", "group", g.ID, nil, g); err != nil {
			return err
		}
		added, err := tx.AddGroupMembers(ctx, g.ID, ids)
		if err != nil {
			return err
		}
		if err := s.recordMembers(ctx, tx, a, orgID, "group.add_member", g.Name, added); err != nil {
			return err
		}
		return s.recomputeRoles(ctx, tx, a, set, orgID, added)
	})
	if err != nil {
		return nil, fmt.Errorf("create group %q: %w", name, err)
	}
	return s.GetDirectoryGroup(ctx, orgID, a.Source, g.ID, true)
}

func uniqueGroup(ctx context.Context, tx Tx, g *Group) error {
	if other, err := tx.GroupByName(ctx, g.OrgID, g.Name); err == nil && other.ID != g.ID {
		return &ConflictError{Field: "name", Message: fmt.Sprintf("a group %q already exists", g.Name)}
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if g.ExternalID != "" {
		if other, err := tx.GroupByExternalID(ctx, g.OrgID, g.Source, g.ExternalID); err == nil && other.ID != g.ID {
			return &ConflictError{Field: "external_id", Message: fmt.Sprintf("%q is already used by another group", g.ExternalID)}
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// ChangeDirectoryGroup renames a group and changes its members in one
// transaction: the member ids are checked in bulk, inserted and deleted in
// bulk, one history entry per member whose membership changed.
func (s *Service) ChangeDirectoryGroup(ctx context.Context, a Actor, set *DirectorySettings, orgID, id string, ch GroupChange, check func(*Group) error) (*Group, error) {
	var p problems
	if ch.Name != nil {
		checkGroupName(&p, *ch.Name)
	}
	if ch.ExternalID != nil {
		checkText(&p, "external_id", *ch.ExternalID, MaxExternalID)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	var out *Group
	err := s.store.InTx(ctx, func(tx Tx) error {
		g, err := directoryGroup(ctx, tx, orgID, a.Source, id)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(g); err != nil {
				return err
			}
		}
		before := *g
		renamed := false
		if ch.Name != nil && strings.TrimSpace(*ch.Name) != g.Name {
			g.Name = strings.TrimSpace(*ch.Name)
			renamed = true
		}
		if ch.ExternalID != nil && *ch.ExternalID != g.ExternalID {
			g.ExternalID = *ch.ExternalID
			renamed = true
		}
		now := s.now()
		if renamed {
			if err := uniqueGroup(ctx, tx, g); err != nil {
				return err
			}
			g.UpdatedAt = now
			if err := tx.UpdateGroup(ctx, g); err != nil {
				return err
			}
			if err := s.record(ctx, tx, a, orgID, "group.rename", "group", g.ID, &before, g); err != nil {
				return err
			}
		}
		add, remove := ch.Add, ch.Remove
		if ch.SetMembers != nil {
			want, err := checkMembers(ctx, tx, orgID, a.Source, ch.SetMembers)
			if err != nil {
				return err
			}
			current, err := tx.GroupMemberIDs(ctx, g.ID)
			if err != nil {
				return err
			}
			add, remove = nil, nil
			for _, m := range want {
				if _, ok := slices.BinarySearch(current, m); !ok {
					add = append(add, m)
				}
			}
			for _, m := range current {
				if _, ok := slices.BinarySearch(want, m); !ok {
					remove = append(remove, m)
				}
			}
		} else if add, err = checkMembers(ctx, tx, orgID, a.Source, add); err != nil {
			return err
		}
		if len(remove) > MaxGroupChange {
			return invalid("members", "at most %d members can be changed at once", MaxGroupChange)
		}
		added, err := tx.AddGroupMembers(ctx, g.ID, add)
		if err != nil {
			return err
		}
		removed, err := tx.RemoveGroupMembers(ctx, g.ID, remove)
		if err != nil {
			return err
		}
		if err := s.recordMembers(ctx, tx, a, orgID, "group.add_member", g.Name, added); err != nil {
			return err
		}
		if err := s.recordMembers(ctx, tx, a, orgID, "group.remove_member", g.Name, removed); err != nil {
			return err
		}
		if !renamed && (len(added) > 0 || len(removed) > 0) {
			g.UpdatedAt = now
			if err := tx.TouchGroup(ctx, orgID, g.ID, now); err != nil {
				return err
			}
		}
		affected := append(added, removed...)
		if renamed && len(set.RoleRules) > 0 {
			all, err := tx.GroupMemberIDs(ctx, g.ID)
			if err != nil {
				return err
			}
			affected = append(affected, all...)
		}
		out = g
		return s.recomputeRoles(ctx, tx, a, set, orgID, affected)
	})
	if err != nil {
		return nil, fmt.Errorf("change group %s: %w", id, err)
	}
	return out, nil
}

// DeleteDirectoryGroup deletes a group of the actor's source; its former
// members' roles are recomputed.
func (s *Service) DeleteDirectoryGroup(ctx context.Context, a Actor, set *DirectorySettings, orgID, id string, check func(*Group) error) error {
	err := s.store.InTx(ctx, func(tx Tx) error {
		g, err := directoryGroup(ctx, tx, orgID, a.Source, id)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(g); err != nil {
				return err
			}
		}
		members, err := tx.GroupMemberIDs(ctx, g.ID)
		if err != nil {
			return err
		}
		if err := tx.DeleteGroup(ctx, orgID, id); err != nil {
			return err
		}
		if err := s.record(ctx, tx, a, orgID, "group.delete", "group", g.ID, g, nil); err != nil {
			return err
		}
		return s.recomputeRoles(ctx, tx, a, set, orgID, members)
	})
	if err != nil {
		return fmt.Errorf("delete group %s: %w", id, err)
	}
	return nil
}
