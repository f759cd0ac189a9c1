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
// full one when a group changed since the watermark (only a full read
// resolves memberships), or, with uSNChanged watermarks, when another domain
// controller answers than the one the watermark is from (see readDC).
func (s *Source) Read(ctx context.Context, req core.DirectoryRead) (*core.DirectoryReadResult, error) {
	c, url, err := s.connectFrom(ctx, s.cfg.URLs)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	// Read before anything else: highestCommittedUSN is then a watermark no
	// change made during the read can fall behind.
	dc, err := s.readDC(c)
	if err != nil {
		return nil, err
	}
	wm, wmDC := req.Watermark, ""
	if s.attrs.numericWatermark {
		wm, wmDC = splitDCWatermark(req.Watermark)
	}
	full, reason := req.Full, ""
	if !full && req.Watermark != "" && !sameDC(wmDC, dc.name) {
		s.log.Info("another domain controller answers than the one the watermark is from: a full run", "url", url, "dc", dc.name, "watermark_dc", wmDC)
		full, reason, wm = true, core.RunReasonDCChanged, ""
	}
	if !full {
		changed, err := s.groupsChangedSince(c, wm)
		if err != nil {
			return nil, err
		}
		if changed {
			full, reason = true, core.RunReasonGroupsChanged
		}
	}
	if !sameDC(wmDC, dc.name) {
		wm = "" // another DC's numbers: not a lower bound of this one's
	}
	r := &reader{s: s, byDN: map[dnKey]int32{}, byUID: map[uint64]int32{}, disabled: map[dnKey]struct{}{}, progress: req.Progress}
	r.snap.Full = full
	if full && req.KnownUsers > 0 {
		n := req.KnownUsers
		r.snap.Users = make([]core.SyncEntry, 0, n+n/64+16) // no doubling: room for the source plus growth
	}
	filter := s.users
	if !full {
		filter = "(&" + s.users + s.attrs.changedSince(wm) + ")"
	}
	if full && s.cfg.Groups.BaseDN != "" {
		// Groups are read on a second connection while the users are read:
		// decoding, not the server, is the cost, and this uses a second core.
		// It goes to the same server: one DC's view.
		gc, err := s.connectTo(ctx, url)
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
	next := s.attrs.laterWatermark(wm, r.watermark)
	if dc.usn != "" {
		// The DC's committed USN before the read: every later change has a
		// higher one, also a change to an entry this read had already passed.
		next = s.attrs.laterWatermark(wm, dc.usn)
	}
	return &core.DirectoryReadResult{Snapshot: r.snap, Watermark: joinDCWatermark(next, dc.name), FullReason: reason,
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
