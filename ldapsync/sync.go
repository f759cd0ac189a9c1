package ldapsync

import (
	"context"
	"fmt"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster/core"
)

var _ core.DirectorySource = (*Source)(nil)

// Settings implements core.DirectorySource.
func (s *Source) Settings() core.SourceSettings {
	return core.SourceSettings{SyncSource: s.core, FullSyncEvery: s.cfg.FullSyncEvery, Interval: s.cfg.Interval,
		MaxRemovals: s.guard, OnDemand: s.cfg.Mode == "on_demand", Fingerprint: s.fp}
}

// Read implements core.DirectorySource: it reads the users (every one when
// req.Full, otherwise those changed since the watermark) and, on a full
// read, the groups with their nested members. An incremental read becomes a
// full one when a group changed since the watermark: only a full read
// resolves memberships.
func (s *Source) Read(ctx context.Context, req core.DirectoryRead) (*core.DirectoryReadResult, error) {
	c, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	full := req.Full
	if !full {
		changed, err := s.groupsChangedSince(c, req.Watermark)
		if err != nil {
			return nil, err
		}
		full = changed
	}
	r := &reader{s: s, byDN: map[dnKey]int32{}, byUID: map[uint64]int32{}, disabled: map[dnKey]struct{}{}, progress: req.Progress}
	r.snap.Full = full
	if full && req.KnownUsers > 0 {
		n := req.KnownUsers
		r.snap.Users = make([]core.SyncEntry, 0, n+n/64+16) // no doubling: room for the source plus growth
	}
	filter := s.users
	if !full {
		filter = "(&" + s.users + s.attrs.changedSince(req.Watermark) + ")"
	}
	if full && s.cfg.Groups.BaseDN != "" {
		// Groups are read on a second connection while the users are read:
		// decoding, not the server, is the cost, and this uses a second core.
		gc, err := s.connect(ctx)
		if err != nil {
			return nil, err
		}
		defer gc.Close()
		gr := &groupReader{s: s}
		gctx, cancel := context.WithCancel(ctx)
		defer cancel()
		gerr := make(chan error, 1)
		go func() { gerr <- gr.read(gctx, gc) }()
		if err := r.readUsers(ctx, c, filter); err != nil {
			cancel()
			<-gerr
			return nil, err
		}
		if err := <-gerr; err != nil {
			return nil, err
		}
		r.addGroups(gr)
	} else if err := r.readUsers(ctx, c, filter); err != nil {
		return nil, err
	}
	r.byDN, r.byUID, r.disabled = nil, nil, nil
	return &core.DirectoryReadResult{Snapshot: r.snap, Watermark: s.attrs.laterWatermark(req.Watermark, r.watermark),
		EntriesRead: r.entries, Errors: r.errors, Problems: r.problems}, nil
}

// groupsChangedSince reports whether any group changed after the watermark.
func (s *Source) groupsChangedSince(c *ldap.Conn, wm string) (bool, error) {
	if s.cfg.Groups.BaseDN == "" {
		return false, nil
	}
	f := "(&" + s.groups + s.attrs.changedSince(wm) + ")"
	res, err := c.Search(ldap.NewSearchRequest(s.cfg.Groups.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 1, int(s.cfg.Timeout/time.Second), false, f, []string{"1.1"}, nil))
	if ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("search changed groups: %w", err)
	}
	return len(res.Entries) > 0, nil
}
