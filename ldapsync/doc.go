// Package ldapsync is roster's LDAP door: it connects to a directory (TLS,
// StartTLS, failover over several URLs), streams users and groups page by page
// with the RFC 2696 paging control into a compact snapshot, and hands that to
// the core, which reconciles it with the store. It also schedules runs and
// authenticates directory users by binding as them.
package ldapsync
