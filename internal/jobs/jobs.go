// Package jobs runs roster's background jobs (dormancy, session clean-up) on
// fixed intervals until the daemon stops.
package jobs

import (
	"context"
	"time"
)

// Job is one periodic task.
type Job struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context) (int64, error) // returns how many items it handled
}
