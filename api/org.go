package api

import (
	"net/http"

	"github.com/rosterhq/roster/core"
)

func (a *API) getPolicy(w http.ResponseWriter, r *http.Request) error {
	if err := core.AuthorizeUserAdmin(a.actor(r)); err != nil {
		return err
	}
	p, err := a.svc.PasswordPolicy(r.Context(), orgID(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (a *API) putPolicy(w http.ResponseWriter, r *http.Request) error {
	// expiry_days_admins is the operator's: left out, the value in force stays.
	var in struct {
		core.PasswordPolicy
		ExpiryDaysAdmins *int `json:"expiry_days_admins"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p := in.PasswordPolicy
	if in.ExpiryDaysAdmins != nil {
		p.ExpiryDaysAdmins = *in.ExpiryDaysAdmins
	} else {
		cur, err := a.svc.PasswordPolicy(r.Context(), orgID(r))
		if err != nil {
			return err
		}
		p.ExpiryDaysAdmins = cur.ExpiryDaysAdmins
	}
	if err := a.svc.SetPasswordPolicy(r.Context(), a.actor(r), orgID(r), p); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

type template struct {
	Fields []core.MetadataField `json:"fields"`
}

func (a *API) getTemplate(w http.ResponseWriter, r *http.Request) error {
	f, err := a.svc.MetadataTemplate(r.Context(), orgID(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, template{Fields: f})
	return nil
}

func (a *API) putTemplate(w http.ResponseWriter, r *http.Request) error {
	var t template
	if err := decode(w, r, &t); err != nil {
		return err
	}
	if t.Fields == nil {
		t.Fields = []core.MetadataField{}
	}
	if err := a.svc.SetMetadataTemplate(r.Context(), a.actor(r), orgID(r), t.Fields); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (a *API) getSettings(w http.ResponseWriter, r *http.Request) error {
	if err := core.AuthorizeUserAdmin(a.actor(r)); err != nil {
		return err
	}
	s, err := a.svc.OrgSettings(r.Context(), orgID(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

func (a *API) putSettings(w http.ResponseWriter, r *http.Request) error {
	var in core.OrgSettings
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := a.svc.SetOrgSettings(r.Context(), a.actor(r), orgID(r), in); err != nil {
		return err
	}
	return a.getSettings(w, r)
}

// orgProfile is the organisation as its owners and admins see and change it.
// name is the operator's (roster org rename): it is shown, not changed.
type orgProfile struct {
	ID           string  `json:"id"`
	Name         string  `json:"name"`
	DisplayName  *string `json:"display_name"`
	SupportEmail *string `json:"support_email"`
	CatalogURL   *string `json:"catalog_url"`
}

func profileOf(o *core.Org) orgProfile {
	return orgProfile{ID: o.ID, Name: o.Name, DisplayName: &o.DisplayName, SupportEmail: &o.SupportEmail, CatalogURL: &o.CatalogURL}
}

func (a *API) getOrg(w http.ResponseWriter, r *http.Request) error {
	if err := core.AuthorizeUserAdmin(a.actor(r)); err != nil {
		return err
	}
	o, err := a.svc.OrgByID(r.Context(), orgID(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, profileOf(o))
	return nil
}

// putOrg changes the profile: a field left out keeps its value, an empty
// string clears it (the display name falls back to the name).
func (a *API) putOrg(w http.ResponseWriter, r *http.Request) error {
	var in orgProfile
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.ID != "" && in.ID != orgID(r) {
		return badRequest("id", "is the organisation's and cannot be changed")
	}
	cur, err := a.svc.OrgByID(r.Context(), orgID(r))
	if err != nil {
		return err
	}
	if in.Name != "" && in.Name != cur.Name {
		return &core.ForbiddenError{Field: "name", Reason: "an organisation is renamed only by the operator on the host (roster org rename); change display_name instead"}
	}
	o, err := a.svc.SetOrgProfile(r.Context(), a.actor(r), orgID(r), core.OrgProfile{DisplayName: in.DisplayName, SupportEmail: in.SupportEmail, CatalogURL: in.CatalogURL})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, profileOf(o))
	return nil
}
