//go:build unix

package ldapsync

import (
	"errors"
	"strconv"
	"strings"
	"syscall"
)

// deadLocalOwner reports whether a run lease owner ("host/pid/nonce", see
// New) is a process of this host that no longer exists. Another host's
// owner, or a pid that is alive (perhaps reused), is never taken as dead:
// its lease expires on its own.
func deadLocalOwner(owner, self string) bool {
	oh, rest, ok := strings.Cut(owner, "/")
	sh, _, _ := strings.Cut(self, "/")
	if !ok || oh != sh || owner == self {
		return false
	}
	ps, _, _ := strings.Cut(rest, "/")
	pid, err := strconv.Atoi(ps)
	if err != nil || pid <= 0 {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
