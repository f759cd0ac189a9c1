package core

import "context"

type requestIDKey struct{}

// WithRequestID carries the id of the request being served, so that history
// entries written for it name it even when no actor carries it (a failed
// login, a lockout).
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFrom is the id WithRequestID stored, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
