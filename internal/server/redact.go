package server

import "strings"

// secretPathPrefixes are paths whose next segment is a secret (an
// invitation or password-reset token): logged as [redacted].
var secretPathPrefixes = []string{"/invite/", "/reset/"}

// logPath is the request path as it may appear in a log line.
func logPath(p string) string {
	for _, pre := range secretPathPrefixes {
		if strings.HasPrefix(p, pre) && len(p) > len(pre) {
			return pre + "[redacted]"
		}
	}
	return p
}
