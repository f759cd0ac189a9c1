package api

import (
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/rosterhq/roster/core"
)

func (a *API) mountLDAP(r *mux.Router) {
	r.Handle("/ldap/sources", a.handle(a.ldapSources)).Methods(http.MethodGet)
	r.Handle("/ldap/sources/{name}/sync", a.handle(a.ldapSync)).Methods(http.MethodPost)
	r.Handle("/ldap/sources/{name}/search", a.handle(a.ldapSearch)).Methods(http.MethodGet)
}

// ldapSearch finds users of an on-demand source by part of their username,
// names or email ("Add an LDAP user": search by name and pick). Whoever may
// create users may search.
func (a *API) ldapSearch(w http.ResponseWriter, r *http.Request) error {
	if err := core.AuthorizeUserAdmin(a.actor(r)); err != nil {
		return err
	}
	name := mux.Vars(r)["name"]
	if a.cfg.LDAP == nil {
		return &core.NotFoundError{Kind: "ldap source", Key: name}
	}
	q := r.URL.Query()
	limit := 20
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return badRequest("limit", "limit must be a number from 1 to 100")
		}
		limit = n
	}
	if len(q.Get("q")) > 256 {
		return badRequest("q", "q is longer than 256 characters")
	}
	entries, err := a.cfg.LDAP.Search(r.Context(), orgID(r), name, q.Get("q"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries})
	return nil
}

type ldapSourceStatus struct {
	Name  string          `json:"name"`
	State *core.SyncState `json:"state"`
	Runs  []core.SyncRun  `json:"runs"`
}

// ldapSources lists the organisation's LDAP sources with their sync state
// and last runs.
func (a *API) ldapSources(w http.ResponseWriter, r *http.Request) error {
	if err := core.AuthorizeRemoveUsers(a.actor(r)); err != nil {
		return err
	}
	out := []ldapSourceStatus{}
	if a.cfg.LDAP != nil {
		for _, name := range a.cfg.LDAP.Names(orgID(r)) {
			st, err := a.svc.SyncState(r.Context(), orgID(r), name)
			if err != nil {
				return err
			}
			runs, err := a.svc.SyncRuns(r.Context(), name, 10)
			if err != nil {
				return err
			}
			out = append(out, ldapSourceStatus{Name: name, State: st, Runs: runs})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sources": out})
	return nil
}

// ldapSync runs a sync of one source now ("sync now") and answers its report.
func (a *API) ldapSync(w http.ResponseWriter, r *http.Request) error {
	if err := core.AuthorizeRemoveUsers(a.actor(r)); err != nil {
		return err
	}
	if a.cfg.LDAP == nil {
		return &core.NotFoundError{Kind: "ldap source", Key: mux.Vars(r)["name"]}
	}
	q := r.URL.Query()
	rep, err := a.cfg.LDAP.SyncNow(r.Context(), orgID(r), mux.Vars(r)["name"], q.Get("full") == "true", q.Get("dry_run") == "true")
	if err != nil && rep == nil {
		return err
	}
	status := http.StatusOK
	if err != nil {
		status = http.StatusConflict // failed or aborted by the deletion guard: the report says why
	}
	writeJSON(w, status, rep)
	return nil
}
