package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// RenameGroup changes a group's name (and, for directory groups, external id).
func (s *Service) RenameGroup(ctx context.Context, a Actor, orgID, id, name string) (*Group, error) {
	var p problems
	if strings.TrimSpace(name) == "" {
		p.add("name", "is required")
	}
	checkText(&p, "name", name, MaxNameLen)
	if err := p.err(); err != nil {
		return nil, err
	}
	var out *Group
	err := s.store.InTx(ctx, func(tx Tx) error {
		g, err := tx.GroupByID(ctx, orgID, id)
		if err != nil {
			return err
		}
		if err := authorizeGroup(a, g); err != nil {
			return err
		}
		before := *g
		g.Name = strings.TrimSpace(name)
		g.UpdatedAt = s.now()
		if err := tx.UpdateGroup(ctx, g); err != nil {
			return err
		}
		out = g
		return s.record(ctx, tx, a, orgID, "group.rename", "group", g.ID, &before, g)
	})
	if err != nil {
		return nil, fmt.Errorf("rename group %s: %w", id, err)
	}
	return out, nil
}

// DeleteGroup removes a group and its memberships and app grants; the
// users stay.
func (s *Service) DeleteGroup(ctx context.Context, a Actor, orgID, id string) error {
	err := s.store.InTx(ctx, func(tx Tx) error {
		g, err := tx.GroupByID(ctx, orgID, id)
		if err != nil {
			return err
		}
		if err := authorizeGroup(a, g); err != nil {
			return err
		}
		if err := tx.DeleteGroup(ctx, orgID, id); err != nil {
			return err
		}
		return s.record(ctx, tx, a, orgID, "group.delete", "group", g.ID, g, nil)
	})
	if err != nil {
		return fmt.Errorf("delete group %s: %w", id, err)
	}
	return nil
}

// GroupMembers returns the ids of a group's members.
func (s *Service) GroupMembers(ctx context.Context, orgID, groupID string) ([]string, error) {
	var out []string
	err := s.store.View(ctx, func(tx Tx) error {
		if _, err := tx.GroupByID(ctx, orgID, groupID); err != nil {
			return err
		}
		var err error
		out, err = tx.GroupMemberIDs(ctx, groupID)
		return err
	})
	return out, err
}

// ReplaceGroupMembers makes userIDs the group's exact membership, writing
// one history entry per user added or removed. Unknown ids are an error and
// nothing changes.
func (s *Service) ReplaceGroupMembers(ctx context.Context, a Actor, orgID, groupID string, userIDs []string) error {
	err := s.store.InTx(ctx, func(tx Tx) error {
		g, err := tx.GroupByID(ctx, orgID, groupID)
		if err != nil {
			return err
		}
		if err := authorizeGroup(a, g); err != nil {
			return err
		}
		current, err := tx.GroupMemberIDs(ctx, groupID)
		if err != nil {
			return err
		}
		want := slices.Clone(userIDs)
		slices.Sort(want)
		want = slices.Compact(want)
		for _, id := range want {
			if slices.Contains(current, id) {
				continue
			}
			if _, err := tx.UserByID(ctx, orgID, id); err != nil {
				return err
			}
			if err := tx.AddGroupMember(ctx, groupID, id); err != nil {
				return err
			}
			if err := s.record(ctx, tx, a, orgID, "group.add_member", "user", id, nil, map[string]string{"group": g.Name}); err != nil {
				return err
			}
		}
		for _, id := range current {
			if _, ok := slices.BinarySearch(want, id); ok {
				continue
			}
			if err := tx.RemoveGroupMember(ctx, groupID, id); err != nil {
				return err
			}
			if err := s.record(ctx, tx, a, orgID, "group.remove_member", "user", id, nil, map[string]string{"group": g.Name}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replace members of group %s: %w", groupID, err)
	}
	return nil
}

// ListGroups returns an organisation's groups by name.
func (s *Service) ListGroups(ctx context.Context, orgID string) ([]Group, error) {
	return read(ctx, s.store, func(tx Tx) ([]Group, error) { return tx.ListGroups(ctx, orgID) })
}

// authorizeGroup: directories change only their own groups; people need to
// be owners or admins.
// authorizeGroup allows a change of g's name, members or existence: a
// source changes only its own groups, and people change only native ones (a
// group from a directory is the directory's: its next sync would undo the
// change, so the change is refused, naming the source).
func authorizeGroup(a Actor, g *Group) error {
	directory := a.Kind == ActorSCIM || a.Kind == ActorLDAP
	switch {
	case directory && g.Source != a.Source:
		return &ForbiddenError{Reason: "the group belongs to source " + g.Source}
	case !directory && g.Source != SourceNative && g.Source != "":
		return &ForbiddenError{Reason: "the group is managed by its directory (" + g.Source + "); change it there"}
	}
	return authorizeOwnerAdmin(a, PermGroups)
}

// GroupRepo stores groups and their members.
type GroupRepo interface {
	InsertGroup(ctx context.Context, g *Group) error
	UpdateGroup(ctx context.Context, g *Group) error
	DeleteGroup(ctx context.Context, orgID, id string) error
	GroupByID(ctx context.Context, orgID, id string) (*Group, error)
	GroupByName(ctx context.Context, orgID, name string) (*Group, error)
	GroupByExternalID(ctx context.Context, orgID, source, externalID string) (*Group, error)
	ListGroups(ctx context.Context, orgID string) ([]Group, error)
	SearchGroups(ctx context.Context, q GroupSearch) ([]Group, int, error)
	// SourceGroups lists the groups of one source.
	SourceGroups(ctx context.Context, orgID, source string) ([]Group, error)
	TouchGroup(ctx context.Context, orgID, id string, at time.Time) error
	AddGroupMember(ctx context.Context, groupID, userID string) error
	RemoveGroupMember(ctx context.Context, groupID, userID string) error
	// AddGroupMembers and RemoveGroupMembers report the users whose
	// membership changed.
	AddGroupMembers(ctx context.Context, groupID string, userIDs []string) ([]string, error)
	RemoveGroupMembers(ctx context.Context, groupID string, userIDs []string) ([]string, error)
	// InsertGroupMembers adds memberships, in the order given, skipping
	// those that exist, without reporting which changed.
	InsertGroupMembers(ctx context.Context, ms []Membership) error
	GroupMemberIDs(ctx context.Context, groupID string) ([]string, error)
	GroupMemberRefs(ctx context.Context, groupID string) ([]MemberRef, error)
	UserGroups(ctx context.Context, userID string) ([]Group, error)
	MembershipsOf(ctx context.Context, userIDs []string) ([]GroupMembership, error)
}

// NewGroup is a group to create: a native one unless a directory creates
// one of its own source.
type NewGroup struct {
	OrgID      string
	Name       string
	Source     string // SourceNative when empty
	ExternalID string
}

// CreateGroup adds a group.
func (s *Service) CreateGroup(ctx context.Context, a Actor, in NewGroup) (*Group, error) {
	orgID, name, source, externalID := in.OrgID, in.Name, in.Source, in.ExternalID
	var p problems
	if strings.TrimSpace(name) == "" {
		p.add("name", "is required")
	}
	checkText(&p, "name", name, MaxNameLen)
	checkText(&p, "external_id", externalID, MaxExternalID)
	if err := p.err(); err != nil {
		return nil, err
	}
	if source == "" {
		source = SourceNative
	}
	if (a.Kind == ActorSCIM || a.Kind == ActorLDAP) && source != a.Source {
		return nil, &ForbiddenError{Reason: "a directory creates groups of its own source only"}
	}
	if err := authorizeOwnerAdmin(a, PermGroups); err != nil {
		return nil, err
	}
	now := s.now()
	g := &Group{ID: newID(), OrgID: orgID, Name: strings.TrimSpace(name), Source: source, ExternalID: externalID, CreatedAt: now, UpdatedAt: now}
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.GroupByName(ctx, orgID, g.Name); err == nil {
			return &ConflictError{Field: "name", Message: fmt.Sprintf("a group %q already exists", g.Name)}
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := tx.InsertGroup(ctx, g); err != nil {
			return err
		}
		return s.record(ctx, tx, a, orgID, "group.create", "group", g.ID, nil, g)
	})
	if err != nil {
		return nil, fmt.Errorf("create group %q: %w", name, err)
	}
	return g, nil
}

// SetGroupMember adds (member=true) or removes a user from a group.
func (s *Service) SetGroupMember(ctx context.Context, a Actor, orgID, groupID, userID string, member bool) error {
	err := s.store.InTx(ctx, func(tx Tx) error {
		g, err := tx.GroupByID(ctx, orgID, groupID)
		if err != nil {
			return err
		}
		u, err := tx.UserByID(ctx, orgID, userID)
		if err != nil {
			return err
		}
		if err := authorizeGroup(a, g); err != nil {
			return err
		}
		action := "group.add_member"
		if member {
			err = tx.AddGroupMember(ctx, g.ID, u.ID)
		} else {
			action = "group.remove_member"
			err = tx.RemoveGroupMember(ctx, g.ID, u.ID)
		}
		if err != nil {
			return err
		}
		return s.record(ctx, tx, a, orgID, action, "user", u.ID, nil, map[string]string{"group": g.Name})
	})
	if err != nil {
		return fmt.Errorf("group %s member %s: %w", groupID, userID, err)
	}
	return nil
}
