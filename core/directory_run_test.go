package core

import (
	"testing"
	"time"
)

func TestFullReason(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	hourAgo, dayAgo := now.Add(-time.Hour), now.Add(-25*time.Hour)
	set := SourceSettings{FullSyncEvery: 24 * time.Hour, Fingerprint: "fp1"}
	for _, tt := range []struct {
		name string
		o    DirectoryRunOptions
		st   SyncState
		want string
	}{
		{"asked for", DirectoryRunOptions{Full: true}, SyncState{Watermark: "w", LastFullAt: &hourAgo, Fingerprint: "fp1"}, RunReasonRequested},
		{"no watermark", DirectoryRunOptions{}, SyncState{LastFullAt: &hourAgo, Fingerprint: "fp1"}, RunReasonFirstRun},
		{"never full", DirectoryRunOptions{}, SyncState{Watermark: "w", Fingerprint: "fp1"}, RunReasonFirstRun},
		{"query changed", DirectoryRunOptions{}, SyncState{Watermark: "w", LastFullAt: &hourAgo, Fingerprint: "fp0"}, RunReasonQueryChanged},
		{"kept before fingerprints", DirectoryRunOptions{}, SyncState{Watermark: "w", LastFullAt: &hourAgo}, RunReasonQueryChanged},
		{"full_sync_every elapsed", DirectoryRunOptions{}, SyncState{Watermark: "w", LastFullAt: &dayAgo, Fingerprint: "fp1"}, RunReasonFullSyncEvery},
		{"incremental", DirectoryRunOptions{}, SyncState{Watermark: "w", LastFullAt: &hourAgo, Fingerprint: "fp1"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := fullReason(tt.o, set, &tt.st, now); got != tt.want {
				t.Errorf("fullReason = %q, want %q", got, tt.want)
			}
		})
	}
}
