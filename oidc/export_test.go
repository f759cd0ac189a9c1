package oidc

import "context"

// LogContextForTest marks ctx as a request of the door, for log tests.
func LogContextForTest(ctx context.Context) context.Context {
	return context.WithValue(ctx, libLogKey{}, true)
}
