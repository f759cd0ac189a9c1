package core

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// Org returns an organisation by name.
func (s *Service) Org(ctx context.Context, name string) (*Org, error) {
	return read(ctx, s.store, func(tx Tx) (*Org, error) { return tx.OrgByName(ctx, name) })
}

// OrgByID returns an organisation by id.
func (s *Service) OrgByID(ctx context.Context, id string) (*Org, error) {
	return read(ctx, s.store, func(tx Tx) (*Org, error) { return tx.OrgByID(ctx, id) })
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
	return checkOrgProfile(&Org{Name: name, DisplayName: displayName})
}

// MaxURLLen bounds an organisation's catalog URL.
const MaxURLLen = 2048

// checkOrgProfile checks an organisation's name and profile, naming the
// field of each problem.
func checkOrgProfile(o *Org) error {
	var p problems
	if !metaNameRE.MatchString(o.Name) {
		p.add("name", "%q must start with a letter and hold only letters, digits and _ (at most 64)", o.Name)
	}
	checkText(&p, "display_name", o.DisplayName, MaxNameLen)
	if o.SupportEmail != "" {
		var ep problems
		checkEmail(&ep, o.SupportEmail)
		for _, e := range ep {
			p.add("support_email", "%s", e.Message)
		}
	}
	if o.CatalogURL != "" {
		u, err := url.Parse(o.CatalogURL)
		switch {
		case len(o.CatalogURL) > MaxURLLen:
			p.add("catalog_url", "is %d characters long; at most %d are allowed", len(o.CatalogURL), MaxURLLen)
		case err != nil || !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(o.CatalogURL, " \t\r\n"):
			p.add("catalog_url", "%q is not an absolute http or https URL such as https://apps.example.com/catalog", o.CatalogURL)
		case u.User != nil:
			p.add("catalog_url", "must not carry a user name or password")
		}
	}
	return p.err()
}

// OrgProfile is what an organisation shows in its mails and pages: the
// display name (its name when empty), the support address and the app
// catalog the invitation links to. Nil leaves a value as it is.
type OrgProfile struct {
	DisplayName  *string
	SupportEmail *string
	CatalogURL   *string
}

// SetOrgProfile changes an organisation's profile: the operator (roster org
// set) and the organisation's owners and admins may. Nothing is written when
// a value is refused.
func (s *Service) SetOrgProfile(ctx context.Context, a Actor, orgID string, in OrgProfile) (*Org, error) {
	if err := authorizeOwnerAdmin(a, PermOrgSettings); err != nil {
		return nil, err
	}
	var out *Org
	err := s.store.InTx(ctx, func(tx Tx) error {
		o, err := tx.OrgByID(ctx, orgID)
		if err != nil {
			return err
		}
		before := *o
		for dst, v := range map[*string]*string{&o.DisplayName: in.DisplayName, &o.SupportEmail: in.SupportEmail, &o.CatalogURL: in.CatalogURL} {
			if v != nil {
				*dst = strings.TrimSpace(*v)
			}
		}
		if err := checkOrgProfile(o); err != nil {
			return err
		}
		if err := tx.UpdateOrg(ctx, o); err != nil {
			return err
		}
		out = o
		return s.record(ctx, tx, a, o.ID, "org.profile", "org", o.ID, &before, o)
	})
	if err != nil {
		return nil, fmt.Errorf("set organisation profile: %w", err)
	}
	return out, nil
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
		if err := checkOrgProfile(o); err != nil {
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
