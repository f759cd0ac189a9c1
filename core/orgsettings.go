package core

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// OrgSettings are an organisation's own values for rules whose defaults
// come from the server's config. Zero means "the server's default".
type OrgSettings struct {
	InviteValidDays int    `json:"invite_valid_days" db:"invite_valid_days"` // invitation links live this long
	DormancyDays    int    `json:"dormancy_days" db:"dormancy_days"`         // no login for this long makes a user inactive
	DefaultLanguage string `json:"default_language" db:"default_language"`   // for new users without one
}

// Validate checks the settings.
func (o OrgSettings) Validate() error {
	var p problems
	if o.InviteValidDays < 0 || o.InviteValidDays > 90 {
		p.add("invite_valid_days", "%d is not between 0 (server default) and 90", o.InviteValidDays)
	}
	if o.DormancyDays != 0 && (o.DormancyDays < 7 || o.DormancyDays > 3650) {
		p.add("dormancy_days", "%d is not 0 (server default) or between 7 and 3650", o.DormancyDays)
	}
	if o.DefaultLanguage != "" {
		checkMailLanguage(&p, "default_language", o.DefaultLanguage)
	}
	return p.err()
}

func orgSettingsOf(ctx context.Context, tx Tx, orgID string) (OrgSettings, error) {
	o, err := tx.OrgSettings(ctx, orgID)
	if errors.Is(err, ErrNotFound) {
		return OrgSettings{}, nil
	}
	if err != nil {
		return OrgSettings{}, err
	}
	return *o, nil
}

// inviteValidity is how long an invitation of this organisation is valid.
func (s *Service) inviteValidity(ctx context.Context, tx Tx, orgID string) (time.Duration, error) {
	o, err := orgSettingsOf(ctx, tx, orgID)
	if err != nil {
		return 0, err
	}
	if o.InviteValidDays > 0 {
		return time.Duration(o.InviteValidDays) * 24 * time.Hour, nil
	}
	return s.cfg.InviteValidFor, nil
}

// EffectiveOrgSettings are the values in force, defaults filled in.
type EffectiveOrgSettings struct {
	Stored          OrgSettings `json:"stored"`
	InviteValidFor  string      `json:"invite_valid_for"`
	DormancyAfter   string      `json:"dormancy_after"`
	DefaultLanguage string      `json:"default_language"`
}

// OrgSettings returns an organisation's settings as stored and in force.
func (s *Service) OrgSettings(ctx context.Context, orgID string) (*EffectiveOrgSettings, error) {
	var out *EffectiveOrgSettings
	err := s.store.View(ctx, func(tx Tx) error {
		if _, err := tx.OrgByID(ctx, orgID); err != nil {
			return err
		}
		o, err := orgSettingsOf(ctx, tx, orgID)
		if err != nil {
			return err
		}
		out = &EffectiveOrgSettings{Stored: o, InviteValidFor: s.cfg.InviteValidFor.String(), DormancyAfter: s.cfg.DormancyAfter.String(), DefaultLanguage: DefaultMailLanguage}
		if o.InviteValidDays > 0 {
			out.InviteValidFor = (time.Duration(o.InviteValidDays) * 24 * time.Hour).String()
		}
		if o.DormancyDays > 0 {
			out.DormancyAfter = (time.Duration(o.DormancyDays) * 24 * time.Hour).String()
		}
		if o.DefaultLanguage != "" {
			out.DefaultLanguage = o.DefaultLanguage
		}
		return nil
	})
	return out, err
}

// SetOrgSettings replaces an organisation's settings (owners and admins).
func (s *Service) SetOrgSettings(ctx context.Context, a Actor, orgID string, o OrgSettings) error {
	if err := authorizeOwnerAdmin(a, PermOrgSettings); err != nil {
		return err
	}
	if err := o.Validate(); err != nil {
		return err
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		before, err := orgSettingsOf(ctx, tx, orgID)
		if err != nil {
			return err
		}
		// The default language must be one the organisation can invite in.
		if o.DefaultLanguage, err = availableLanguage(ctx, tx, orgID, MailInvite, "default_language", o.DefaultLanguage); err != nil {
			return err
		}
		if err := tx.SetOrgSettings(ctx, orgID, &o); err != nil {
			return err
		}
		return s.record(ctx, tx, a, orgID, "org.settings", "org", orgID, before, o)
	})
	if err != nil {
		return fmt.Errorf("set organisation settings: %w", err)
	}
	return nil
}

// OrgRepo stores organisations and their settings.
type OrgRepo interface {
	CreateOrg(ctx context.Context, o *Org) error
	OrgByName(ctx context.Context, name string) (*Org, error)
	OrgByID(ctx context.Context, id string) (*Org, error)
	ListOrgs(ctx context.Context) ([]Org, error)
	UpdateOrg(ctx context.Context, o *Org) error
	OrgSettings(ctx context.Context, orgID string) (*OrgSettings, error)
	SetOrgSettings(ctx context.Context, orgID string, s *OrgSettings) error
	PasswordPolicy(ctx context.Context, orgID string) (*PasswordPolicy, error)
	SetPasswordPolicy(ctx context.Context, orgID string, p *PasswordPolicy) error
	MetadataTemplate(ctx context.Context, orgID string) ([]MetadataField, error)
	SetMetadataTemplate(ctx context.Context, orgID string, fields []MetadataField) error
}
