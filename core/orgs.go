package core

import (
	"context"
	"fmt"
)

// Org returns an organisation by name.
func (s *Service) Org(ctx context.Context, name string) (*Org, error) {
	return read(ctx, s.store, func(tx Tx) (*Org, error) { return tx.OrgByName(ctx, name) })
}

// CreateOrg adds an organisation.
func (s *Service) CreateOrg(ctx context.Context, a Actor, name, displayName string) (*Org, error) {
	var p problems
	if !metaNameRE.MatchString(name) {
		p.add("name", "%q must start with a letter and hold only letters, digits and _ (at most 64)", name)
	}
	checkText(&p, "display_name", displayName, MaxNameLen)
	if err := p.err(); err != nil {
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
	if err := authorizeOrgSettings(a); err != nil {
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
