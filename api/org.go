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
	var p core.PasswordPolicy
	if err := decode(w, r, &p); err != nil {
		return err
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
