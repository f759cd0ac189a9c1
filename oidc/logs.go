package oidc

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
)

// zitadel/oidc logs through slog's default logger, with the request's
// context. LogHandler is the handler to make the default (cmd/roster
// does): records logged within a request to this door go to the door's
// logger (component=oidc), with what could be a secret redacted; every
// other record goes to next.
func (d *Door) LogHandler(next slog.Handler) slog.Handler {
	return &libHandler{door: d.log.Handler(), next: next}
}

// libLog marks a request context of the door.
type libLogKey struct{}

type libHandler struct {
	door, next slog.Handler
}

func inDoor(ctx context.Context) bool {
	v, _ := ctx.Value(libLogKey{}).(bool)
	return ctx != nil && v
}

func (h *libHandler) Enabled(ctx context.Context, l slog.Level) bool {
	if ctx != nil && inDoor(ctx) {
		return h.door.Enabled(ctx, l)
	}
	return h.next.Enabled(ctx, l)
}

func (h *libHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil || !inDoor(ctx) {
		return h.next.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redact(a))
		return true
	})
	return h.door.Handle(ctx, out)
}

func (h *libHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = redact(a)
	}
	return &libHandler{door: h.door.WithAttrs(red), next: h.next.WithAttrs(as)}
}

func (h *libHandler) WithGroup(name string) slog.Handler {
	return &libHandler{door: h.door.WithGroup(name), next: h.next.WithGroup(name)}
}

// secretKeys are attribute keys and query parameters whose values are
// secrets (or open one): never logged.
var secretKeys = map[string]bool{
	"code": true, "code_verifier": true, "client_secret": true, "password": true, "secret": true,
	"access_token": true, "refresh_token": true, "id_token": true, "id_token_hint": true,
	"token": true, "logout_token": true, "assertion": true, "client_assertion": true,
	"authorization": true, "cookie": true,
}

const redacted = "[redacted]"

// redact replaces secrets in an attribute: by key, in URLs' query
// parameters, and inside groups (LogValuers resolved first).
func redact(a slog.Attr) slog.Attr {
	a.Value = a.Value.Resolve()
	if secretKeys[strings.ToLower(a.Key)] {
		return slog.String(a.Key, redacted)
	}
	switch a.Value.Kind() {
	case slog.KindGroup:
		g := a.Value.Group()
		out := make([]slog.Attr, len(g))
		for i, x := range g {
			out[i] = redact(x)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindString:
		return slog.String(a.Key, redactURL(a.Value.String()))
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			return slog.String(a.Key, redactURL(err.Error()))
		}
	}
	return a
}

// redactURL blanks secret query parameters of a URL (a string that is not
// one is returned as it is).
func redactURL(s string) string {
	if !strings.Contains(s, "?") && !strings.Contains(s, "#") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return s
	}
	for _, part := range []*string{&u.RawQuery, &u.Fragment} {
		q, err := url.ParseQuery(*part)
		if err != nil {
			continue
		}
		changed := false
		for k := range q {
			if secretKeys[strings.ToLower(k)] {
				q.Set(k, redacted)
				changed = true
			}
		}
		if changed {
			*part = q.Encode()
		}
	}
	return u.String()
}
