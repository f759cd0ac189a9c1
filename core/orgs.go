package core

import (
	"context"
	"fmt"
)

// Org returns an organisation by name.
func (s *Service) Org(ctx context.Context, name string) (*Org, error) {
	return read(ctx, s.store, func(tx Tx) (*Org, error) { return tx.OrgByName(ctx, name) })
}

// authorizeOperator lets only the operator on the host (the CLI) create or
// rename organisations: an organisation's own people administer it, never
// the set of tenants.
func authorizeOperator(a Actor) error {
	if a.Kind != ActorCLI {
		return &ForbiddenError{Reason: "only the operator on the host (roster org …) creates or renames organisations"}
	}
	return nil
}

func checkOrg(name, displayName string) error {
	var p problems
	if !metaNameRE.MatchString(name) {
		p.add("name", "%q must start with a letter and hold only letters, digits and _ (at most 64)", name)
	}
	checkText(&p, "display_name", displayName, MaxNameLen)
	return p.err()
}

// Orgs lists the organisations, by name.
func (s *Service) Orgs(ctx context.Context) ([]Org, error) {
	return read(ctx, s.store, func(tx Tx) ([]Org, error) { return tx.ListOrgs(ctx) })
}

// RenameOrg gives an organisation a new name (the one doors and the CLI
// use) and public display name; an empty one keeps what it had.
func (s *Service) RenameOrg(ctx context.Context, a Actor, name, newName, displayName string) (*Org, error) {
	if err := authorizeOperator(a); err != nil {
		return nil, err
	}
	var out *Org
	err := s.store.InTx(ctx, func(tx Tx) error {
		o, err := tx.OrgByName(ctx, name)
		if err != nil {
			return err
		}
		before := *o
		if newName != "" {
			o.Name = newName
		}
		if displayName != "" {
			o.DisplayName = displayName
		}
		if err := checkOrg(o.Name, o.DisplayName); err != nil {
			return err
		}
		if err := tx.UpdateOrg(ctx, o); err != nil {
			return err
		}
		out = o
		return s.record(ctx, tx, a, o.ID, "org.rename", "org", o.ID, &before, o)
	})
	if err != nil {
		return nil, fmt.Errorf("rename org %q: %w", name, err)
	}
	return out, nil
}

// CreateOrg adds an organisation (the operator's: roster org create).
func (s *Service) CreateOrg(ctx context.Context, a Actor, name, displayName string) (*Org, error) {
	if err := authorizeOperator(a); err != nil {
		return nil, err
	}
	if err := checkOrg(name, displayName); err != nil {
		return nil, err
	}
	o := &Org{ID: newID(), Name: name, DisplayName: displayName, CreatedAt: s.now()}
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.CreateOrg(ctx, o); err != nil {
			return err
		}
		return s.record(ctx, tx, a, o.ID, "org.create", "org", o.ID, nil, o)
	})
	if err != nil {
		return nil, fmt.Errorf("create org %q: %w", name, err)
	}
	return o, nil
}

// SetMetadataTemplate replaces an organisation's custom metadata template.
func (s *Service) SetMetadataTemplate(ctx context.Context, a Actor, orgID string, fields []MetadataField) error {
	if err := authorizeOwnerAdmin(a, PermMetadataTemplate); err != nil {
		return err
	}
	if err := ValidateMetadataTemplate(fields); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		before, err := tx.MetadataTemplate(ctx, orgID)
		if err != nil {
			return err
		}
		if err := tx.SetMetadataTemplate(ctx, orgID, fields); err != nil {
			return err
		}
		return s.record(ctx, tx, a, orgID, "org.metadata_template", "org", orgID, before, fields)
	})
}

// MetadataTemplate returns an organisation's custom metadata template.
func (s *Service) MetadataTemplate(ctx context.Context, orgID string) ([]MetadataField, error) {
	return read(ctx, s.store, func(tx Tx) ([]MetadataField, error) { return tx.MetadataTemplate(ctx, orgID) })
}
