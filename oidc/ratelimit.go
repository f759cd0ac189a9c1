package oidc

import (
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// loginLimiter is the per-source-address rate of password checks on the
// sign-in pages (the same bound as the admin API's login; the lockout
// bounds them per user).
type loginLimiter struct {
	perMinute int
	mu        sync.Mutex
	m         map[string]*limiterEntry
}

type limiterEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLoginLimiter(perMinute int) *loginLimiter {
	if perMinute <= 0 {
		perMinute = 30
	}
	return &loginLimiter{perMinute: perMinute, m: map[string]*limiterEntry{}}
}

func (l *loginLimiter) allow(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.m) > 10000 {
		for k, e := range l.m {
			if now.Sub(e.seen) > 10*time.Minute {
				delete(l.m, k)
			}
		}
	}
	e, ok := l.m[host]
	if !ok {
		e = &limiterEntry{lim: rate.NewLimiter(rate.Limit(float64(l.perMinute)/60), l.perMinute)}
		l.m[host] = e
	}
	e.seen = now
	return e.lim.Allow()
}
