package core

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTransitionTable(t *testing.T) {
	type want struct {
		to  Status // "" means refused
		why string
	}
	// Every (status, action) pair: the lifecycle is total, so a missing row is a bug.
	tests := map[Status]map[Action]want{
		StatusInvited: {
			ActAccept: {to: StatusActive}, ActDisable: {to: StatusDisabled}, ActEnable: {why: "has not accepted"},
			ActLock: {why: "only an active"}, ActUnlock: {why: "not locked"}, ActMarkIdle: {why: "only an active"},
			ActArchive: {to: StatusArchived}, ActRestore: {why: "not archived"},
		},
		StatusActive: {
			ActAccept: {why: "only an invited"}, ActDisable: {to: StatusDisabled}, ActEnable: {why: "already active"},
			ActLock: {to: StatusLocked}, ActUnlock: {why: "not locked"}, ActMarkIdle: {to: StatusInactive},
			ActArchive: {to: StatusArchived}, ActRestore: {why: "not archived"},
		},
		StatusDisabled: {
			ActAccept: {why: "only an invited"}, ActDisable: {why: "already disabled"}, ActEnable: {to: StatusActive},
			ActLock: {why: "only an active"}, ActUnlock: {why: "not locked"}, ActMarkIdle: {why: "only an active"},
			ActArchive: {to: StatusArchived}, ActRestore: {why: "not archived"},
		},
		StatusLocked: {
			ActAccept: {why: "only an invited"}, ActDisable: {to: StatusDisabled}, ActEnable: {why: "unlock"},
			ActLock: {why: "only an active"}, ActUnlock: {to: StatusActive}, ActMarkIdle: {why: "only an active"},
			ActArchive: {to: StatusArchived}, ActRestore: {why: "not archived"},
		},
		StatusInactive: {
			ActAccept: {why: "only an invited"}, ActDisable: {to: StatusDisabled}, ActEnable: {to: StatusActive},
			ActLock: {why: "only an active"}, ActUnlock: {why: "not locked"}, ActMarkIdle: {why: "only an active"},
			ActArchive: {to: StatusArchived}, ActRestore: {why: "not archived"},
		},
		StatusArchived: {
			ActAccept: {why: "only an invited"}, ActDisable: {why: "restore"}, ActEnable: {why: "restore"},
			ActLock: {why: "only an active"}, ActUnlock: {why: "not locked"}, ActMarkIdle: {why: "only an active"},
			ActArchive: {why: "already archived"}, ActRestore: {to: StatusDisabled}, // StatusBeforeArchive below
		},
	}
	actions := []Action{ActAccept, ActDisable, ActEnable, ActLock, ActUnlock, ActMarkIdle, ActArchive, ActRestore}
	now := time.Now()
	for _, from := range Statuses {
		row, ok := tests[from]
		if !ok {
			t.Fatalf("no expectations for status %s", from)
		}
		for _, act := range actions {
			w, ok := row[act]
			if !ok {
				t.Fatalf("no expectation for %s --%s-->", from, act)
			}
			t.Run(string(from)+"/"+string(act), func(t *testing.T) {
				u := &User{Status: from, ActivatedAt: &now}
				if from == StatusArchived {
					u.StatusBeforeArchive = StatusDisabled
				}
				got, err := Transition(u, act)
				if w.to != "" {
					if err != nil || got != w.to {
						t.Fatalf("got (%q, %v), want %q", got, err, w.to)
					}
					return
				}
				var te *TransitionError
				if !errors.As(err, &te) || !errors.Is(err, ErrTransition) {
					t.Fatalf("got (%q, %v), want a TransitionError", got, err)
				}
				if !strings.Contains(err.Error(), w.why) || !strings.Contains(err.Error(), string(from)) {
					t.Fatalf("error %q should say %q and name the status", err, w.why)
				}
			})
		}
	}
}

func TestTransitionDependsOnAcceptance(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name string
		u    User
		act  Action
		want Status
	}{
		{"enable a disabled user who never accepted goes back to invited", User{Status: StatusDisabled}, ActEnable, StatusInvited},
		{"enable a disabled user who accepted becomes active", User{Status: StatusDisabled, ActivatedAt: &now}, ActEnable, StatusActive},
		{"restore without a recorded status, never accepted", User{Status: StatusArchived}, ActRestore, StatusInvited},
		{"restore without a recorded status, accepted", User{Status: StatusArchived, ActivatedAt: &now}, ActRestore, StatusActive},
		{"restore returns to the status before archiving", User{Status: StatusArchived, StatusBeforeArchive: StatusLocked, ActivatedAt: &now}, ActRestore, StatusLocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Transition(&tt.u, tt.act)
			if err != nil || got != tt.want {
				t.Fatalf("got (%q, %v), want %q", got, err, tt.want)
			}
		})
	}
}

func TestDeriveInviteStatusAtTheSevenDayBoundary(t *testing.T) {
	sent := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	expires := sent.Add(7 * 24 * time.Hour)
	tests := []struct {
		name  string
		state InviteState
		now   time.Time
		want  InviteStatus
	}{
		{"just sent", InviteStateSent, sent, InvitePending},
		{"six days later", InviteStateSent, sent.Add(6 * 24 * time.Hour), InvitePending},
		{"exactly seven days is still pending", InviteStateSent, expires, InvitePending},
		{"one nanosecond after seven days is expired", InviteStateSent, expires.Add(time.Nanosecond), InviteExpired},
		{"a month later", InviteStateSent, sent.Add(30 * 24 * time.Hour), InviteExpired},
		{"mail error stays mail error", InviteStateMailError, expires.Add(time.Hour), InviteMailError},
		{"accepted stays accepted after expiry", InviteStateAccepted, expires.Add(time.Hour), InviteAccepted},
		{"never invited", InviteStateNone, sent, InviteNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &User{InviteState: tt.state, InviteExpiresAt: &expires}
			if got := DeriveInviteStatus(u, tt.now); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// An unaccepted invitation of a disabled or archived user is on hold, with
// the reason, whatever its age or mail state; accepted and never-issued ones
// keep their status.
func TestDeriveInviteStatusOnHold(t *testing.T) {
	sent := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	expires := sent.Add(7 * 24 * time.Hour)
	for _, tt := range []struct {
		name   string
		status Status
		state  InviteState
		now    time.Time
		want   InviteStatus
		reason InviteReason
	}{
		{"disabled invitee", StatusDisabled, InviteStateSent, sent, InviteOnHold, InviteReasonUserDisabled},
		{"archived invitee", StatusArchived, InviteStateSent, sent, InviteOnHold, InviteReasonUserArchived},
		{"disabled after expiry", StatusDisabled, InviteStateSent, expires.Add(time.Hour), InviteOnHold, InviteReasonUserDisabled},
		{"disabled after a mail error", StatusDisabled, InviteStateMailError, sent, InviteOnHold, InviteReasonUserDisabled},
		{"invited again after enable", StatusInvited, InviteStateSent, sent, InvitePending, ""},
		{"disabled who had accepted", StatusDisabled, InviteStateAccepted, sent, InviteAccepted, ""},
		{"archived never invited", StatusArchived, InviteStateNone, sent, InviteNone, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := &User{Status: tt.status, InviteState: tt.state, InviteExpiresAt: &expires, Email: "x@example.com"}
			if got := DeriveInviteStatus(u, tt.now); got != tt.want {
				t.Errorf("status %s, want %s", got, tt.want)
			}
			if got := DeriveInviteReason(u); got != tt.reason {
				t.Errorf("reason %q, want %q", got, tt.reason)
			}
		})
	}
}

func TestCanDelete(t *testing.T) {
	now := time.Now()
	for _, tt := range []struct {
		name string
		u    User
		want bool
	}{
		{"pending invite", User{Status: StatusInvited, InviteState: InviteStateSent}, true},
		{"mail error", User{Status: StatusInvited, InviteState: InviteStateMailError}, true},
		{"disabled before accepting", User{Status: StatusDisabled, InviteState: InviteStateSent}, true},
		{"active", User{Status: StatusActive, ActivatedAt: &now}, false},
		{"disabled after accepting", User{Status: StatusDisabled, ActivatedAt: &now}, false},
		{"archived after accepting", User{Status: StatusArchived, ActivatedAt: &now}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := CanDelete(&tt.u); got != tt.want {
				t.Fatalf("CanDelete = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRoleRanksFollowTheDocumentedOrder(t *testing.T) {
	// User, Administrator, Developer, User Manager.
	order := []Role{RoleMember, RoleAdmin, RoleDeveloper, RoleUserManager}
	for i := 1; i < len(order); i++ {
		if order[i-1].Rank() >= order[i].Rank() {
			t.Fatalf("%s (rank %d) should sort before %s (rank %d)", order[i-1], order[i-1].Rank(), order[i], order[i].Rank())
		}
	}
	for _, r := range Roles {
		if !r.Valid() || r.Rank() == 0 {
			t.Fatalf("role %s has no rank", r)
		}
	}
	if Role("superuser").Valid() {
		t.Fatal("unknown role reported valid")
	}
}

func TestResolveRoleFirstMatchWins(t *testing.T) {
	rules := []RoleRule{{Group: "admins", Role: RoleAdmin}, {Group: "devs", Role: RoleDeveloper}, {Group: "staff", Role: RoleUserManager}}
	tests := []struct {
		groups []string
		want   Role
	}{
		{nil, RoleMember},
		{[]string{"devs"}, RoleDeveloper},
		{[]string{"staff", "devs"}, RoleDeveloper},
		{[]string{"staff", "admins", "devs"}, RoleAdmin},
		{[]string{"other"}, RoleMember},
	}
	for _, tt := range tests {
		in := func(g string) bool {
			for _, x := range tt.groups {
				if x == g {
					return true
				}
			}
			return false
		}
		if got := ResolveRole(rules, RoleMember, in); got != tt.want {
			t.Errorf("groups %v: got %s, want %s", tt.groups, got, tt.want)
		}
	}
}
