//go:build !unix

package ldapsync

// deadLocalOwner cannot tell on this platform: leases expire on their own.
func deadLocalOwner(owner, self string) bool { return false }
