package scim

import (
	"sync"
	"time"

	"github.com/rosterhq/roster/core"
)

// authCache remembers successful token lookups for a short time, keyed by
// the token's hash (the secret itself is not kept). Failures are not cached.
type authCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]authEntry
}

type authEntry struct {
	tok     *core.APIToken
	set     *core.DirectorySettings
	expires time.Time
}

func newAuthCache(ttl time.Duration) *authCache {
	return &authCache{ttl: ttl, m: map[string]authEntry{}}
}

func (c *authCache) get(secret string, load func() (*core.APIToken, *core.DirectorySettings, error)) (*core.APIToken, *core.DirectorySettings, error) {
	if c.ttl <= 0 {
		return load()
	}
	key := core.HashSecret(secret)
	now := time.Now()
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.tok, e.set, nil
	}
	tok, set, err := load()
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	if len(c.m) > 1024 {
		for k, v := range c.m {
			if now.After(v.expires) {
				delete(c.m, k)
			}
		}
	}
	c.m[key] = authEntry{tok: tok, set: set, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return tok, set, nil
}
