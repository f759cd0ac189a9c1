//go:build unix

package jobs

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// OwnerGone reports whether a lease owner ("host/pid/nonce", as
// core.Deps.LeaseOwner makes them) is a process of this host that no longer
// exists. Another host's owner, this process, or a pid that is alive
// (perhaps reused) is never taken as gone: its lease expires on its own.
func OwnerGone(owner string) bool {
	oh, rest, ok := strings.Cut(owner, "/")
	host, _ := os.Hostname()
	if !ok || oh != host {
		return false
	}
	ps, _, _ := strings.Cut(rest, "/")
	pid, err := strconv.Atoi(ps)
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
