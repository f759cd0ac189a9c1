// Package docs holds the documentation the binary ships: the SCIM door
// serves scim.md as its ServiceProviderConfig documentationUri.
package docs

import _ "embed"

// SCIM is docs/scim.md.
//
//go:embed scim.md
var SCIM []byte
