package core

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"strings"
)

// The attributes a directory source maps beyond username, email, names and
// phone: the source owns them (SyncSource.Owned, schema API names, custom
// fields as MetadataPrefix+name). A sync writes exactly those on its users,
// through the one set of rules (normalizeUser, validateUserFields, the
// organisation's metadata template); the others are left alone.

// Owned attribute names that are columns of User.
var ownedColumns = []string{AttrNameDisplayName, AttrNameLanguage, AttrNameManager}

// CheckOwnedAttribute says whether name can be owned by a directory source:
// a column in ownedColumns, a document attribute of the schema, or a custom
// field (MetadataPrefix + a field name).
func CheckOwnedAttribute(name string) bool {
	if f, ok := strings.CutPrefix(name, MetadataPrefix); ok {
		return metaNameRE.MatchString(f)
	}
	for _, c := range ownedColumns {
		if name == c {
			return true
		}
	}
	def, ok := schemaByName[name]
	return ok && def.Storage == StoreDocument && def.Directory
}

// OwnedHash hashes the owned attributes of a user, as stored (normalised):
// an absent value and an empty one hash alike. managerExt is the manager's
// external id in the source.
func OwnedHash(displayName, language, managerExt string, attrs Attributes, meta map[string]string, owned []string) uint64 {
	h := fnv.New64a()
	var n [4]byte
	put := func(s string) {
		binary.LittleEndian.PutUint32(n[:], uint32(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	for _, k := range owned {
		put(k)
		put(ownedText(k, displayName, language, managerExt, attrs, meta))
	}
	return h.Sum64()
}

// ownedText is one owned attribute's value as text (a document attribute
// as its canonical JSON).
func ownedText(k, displayName, language, managerExt string, attrs Attributes, meta map[string]string) string {
	switch k {
	case AttrNameDisplayName:
		return displayName
	case AttrNameLanguage:
		return language
	case AttrNameManager:
		return managerExt
	}
	if f, ok := strings.CutPrefix(k, MetadataPrefix); ok {
		return meta[f]
	}
	v, ok := attrs[k]
	if !ok || (v.Str == "" && len(v.List) == 0) {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

func (d *SyncEntry) ownedHash(owned []string) uint64 {
	x := d.extra()
	return OwnedHash(strings.TrimSpace(x.DisplayName), strings.TrimSpace(x.Language), x.ManagerRef, x.Attributes, x.Metadata, owned)
}

// prepareEntry normalises a directory user's owned attributes as the store
// keeps them, so that an unchanged user hashes as stored: values trimmed,
// empty ones dropped, the primary email and phone taken from the lists. An
// entry whose attributes break the rules is left as read: its write
// reports why.
func prepareEntry(d *SyncEntry) {
	x := d.Extra
	if x == nil {
		return
	}
	if len(x.Attributes) > 0 {
		var p problems
		a := normalizeAttributes(&p, x.Attributes)
		if p.err() == nil {
			x.Attributes = a
			if len(a.List(AttrNameEmails)) > 0 {
				d.Email = a.Primary(AttrNameEmails)
			}
			if len(a.List(AttrNamePhones)) > 0 {
				d.Phone = a.Primary(AttrNamePhones)
			}
		}
	}
	for k, v := range x.Metadata {
		if v = strings.TrimSpace(v); v == "" {
			delete(x.Metadata, k)
		} else {
			x.Metadata[k] = v
		}
	}
}

// changedOwned lists the owned attributes whose directory value differs
// from the stored user's.
func changedOwned(d *SyncEntry, u *User, owned []string) []string {
	var f []string
	x := d.extra()
	for _, k := range owned {
		if k == AttrNameManager {
			if !x.pending && x.managerID != u.ManagerID {
				f = append(f, k)
			}
			continue
		}
		want := ownedText(k, strings.TrimSpace(x.DisplayName), strings.TrimSpace(x.Language), "", x.Attributes, x.Metadata)
		if want != ownedText(k, u.DisplayName, u.Language, "", u.Attributes, u.Metadata) {
			f = append(f, k)
		}
	}
	return f
}

// applyOwned copies one owned attribute of d onto u (whose Attributes and
// Metadata the caller has cloned).
func applyOwned(u *User, d *SyncEntry, k string) {
	x := d.extra()
	switch k {
	case AttrNameDisplayName:
		u.DisplayName = strings.TrimSpace(x.DisplayName)
		return
	case AttrNameLanguage:
		u.Language = strings.TrimSpace(x.Language)
		return
	case AttrNameManager:
		if !x.pending {
			u.ManagerID = x.managerID
		}
		return
	}
	if f, ok := strings.CutPrefix(k, MetadataPrefix); ok {
		if v := x.Metadata[f]; v != "" {
			if u.Metadata == nil {
				u.Metadata = map[string]string{}
			}
			u.Metadata[f] = v
		} else {
			delete(u.Metadata, f)
		}
		return
	}
	if v, ok := x.Attributes[k]; ok && (v.Str != "" || len(v.List) > 0) {
		if u.Attributes == nil {
			u.Attributes = Attributes{}
		}
		u.Attributes[k] = v
	} else {
		delete(u.Attributes, k)
	}
	if len(u.Attributes) == 0 {
		u.Attributes = nil
	}
}

// ownedMetadata are the custom fields among owned, without the prefix.
func ownedMetadata(owned []string) []string {
	var out []string
	for _, k := range owned {
		if f, ok := strings.CutPrefix(k, MetadataPrefix); ok {
			out = append(out, f)
		}
	}
	return out
}

// checkOwnedMetadata checks the custom fields a source owns against the
// organisation's template: each a field of it, of its type. (Required
// fields the directory does not send are not its business.)
func checkOwnedMetadata(tpl []MetadataField, meta map[string]string, owned []string) error {
	fields := ownedMetadata(owned)
	if len(fields) == 0 {
		return nil
	}
	sub := make([]MetadataField, 0, len(fields))
	for _, f := range tpl {
		f.Required = false
		sub = append(sub, f)
	}
	vals := map[string]string{}
	for _, f := range fields {
		if v := meta[f]; v != "" {
			vals[f] = v
		}
	}
	return ValidateMetadata(sub, vals)
}

// managerLink is a directory user whose manager is created by the same run:
// both are indexes into the snapshot's users.
type managerLink struct{ user, manager int }

// resolveManagers turns each entry's ManagerRef (the manager's external id)
// into a user id of the source: a stored user, or (returned as links to set
// once the run created them) another entry of the snapshot. A reference to
// nobody of the source is reported and treated as no manager.
func resolveManagers(ctx context.Context, tx Tx, src SyncSource, users []SyncEntry, current []SyncedUser, res *SyncResult) ([]managerLink, error) {
	byExt := make(map[string]string, len(current))
	for i := range current {
		byExt[current[i].ExternalID] = current[i].ID
	}
	desired := map[string]int{}
	var missing []string
	for i := range users {
		d := &users[i]
		if _, ok := desired[d.ExternalID]; !ok {
			desired[d.ExternalID] = i
		}
		if d.Extra == nil {
			continue
		}
		if r := d.Extra.ManagerRef; r != "" {
			if _, ok := byExt[r]; !ok {
				missing = append(missing, r)
			}
		}
	}
	if len(missing) > 0 { // incremental runs: the manager may be stored but not read
		found, err := tx.SyncUsers(ctx, src.OrgID, src.Source(), missing, nil)
		if err != nil {
			return nil, fmt.Errorf("resolve managers: %w", err)
		}
		for i := range found {
			byExt[found[i].ExternalID] = found[i].ID
		}
	}
	var links []managerLink
	for i := range users {
		d := &users[i]
		x := d.Extra
		if x == nil || x.ManagerRef == "" {
			continue // no manager: the desired manager id is ""
		}
		r := x.ManagerRef
		switch id, stored := byExt[r]; {
		case r == d.ExternalID:
			res.Errors++
			res.problem("%s (%s): manager: a user cannot be their own manager", d.Username, d.ExternalID)
			x.ManagerRef, x.managerID = "", ""
		case stored:
			x.managerID = id
		default:
			if j, ok := desired[r]; ok {
				x.pending = true
				links = append(links, managerLink{user: i, manager: j})
				continue
			}
			res.problem("%s (%s): manager %q is not a user of source %s: left empty", d.Username, d.ExternalID, r, src.Source())
			x.ManagerRef, x.managerID = "", ""
		}
	}
	return links, nil
}

// linkManagers sets the managers created by this run (resolveManagers'
// links), once both users exist; userIDs are the run's user ids by
// snapshot index.
func (s *Service) linkManagers(ctx context.Context, src SyncSource, a Actor, links []managerLink, userIDs []string, o SyncOptions, res *SyncResult) error {
	for start := 0; start < len(links); start += o.BatchSize {
		batch := links[start:min(start+o.BatchSize, len(links))]
		var br SyncResult
		err := s.store.InTx(ctx, func(tx Tx) error {
			br = SyncResult{}
			for _, l := range batch {
				uid, mid := userIDs[l.user], userIDs[l.manager]
				if uid == "" {
					continue // not written: reported already
				}
				if mid == "" {
					br.problem("user %s: manager: the manager's entry was not imported: left empty", uid)
					continue
				}
				u, err := tx.UserByID(ctx, src.OrgID, uid)
				if err != nil {
					return err
				}
				if u.ManagerID == mid || u.Source != src.Source() {
					continue
				}
				before := cloneUser(u)
				u.ManagerID, u.UpdatedAt = mid, s.now()
				if err := tx.UpdateUser(ctx, u); err != nil {
					return err
				}
				if err := s.record(ctx, tx, a, u.OrgID, "user.update", "user", u.ID, before, u); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("set managers: %w", err)
		}
		for _, p := range br.Problems {
			res.problem("%s", p)
		}
	}
	return nil
}

// cloneOwnedMaps gives u its own Attributes and Metadata before owned
// attributes are written onto it (the caller's before-image shares them).
func cloneOwnedMaps(u *User) {
	u.Attributes = u.Attributes.Clone()
	u.Metadata = maps.Clone(u.Metadata)
}

// prepareOwned reads what writing the owned attributes needs, in the run's
// first read: the metadata template and the managers' user ids.
func (s *Service) prepareOwned(ctx context.Context, tx Tx, src *SyncSource, users []SyncEntry, current []SyncedUser, res *SyncResult) ([]managerLink, error) {
	if len(src.Owned) == 0 {
		return nil, nil
	}
	if len(ownedMetadata(src.Owned)) > 0 {
		tpl, err := tx.MetadataTemplate(ctx, src.OrgID)
		if err != nil {
			return nil, fmt.Errorf("metadata template: %w", err)
		}
		src.metaTpl = tpl
	}
	for _, k := range src.Owned {
		if k == AttrNameManager {
			return resolveManagers(ctx, tx, *src, users, current, res)
		}
	}
	return nil, nil
}
