// Package e2e holds the web console's end-to-end tests: Debian's Chromium,
// driven headless by chromedp, against a real `roster serve` process with a
// real SMTP catcher (and a real slapd for the LDAP flow). The package has no
// code of its own; see console_e2e_test.go.
//
// Screenshots (dashboard, invite dialog, phone width, LDAP page) are written
// to the directory in ROSTER_E2E_ARTIFACTS, or to a temporary directory.
package e2e
