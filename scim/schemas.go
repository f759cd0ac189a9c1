package scim

import (
	"strings"

	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"

	"github.com/rosterhq/roster/core"
)

// Schema URNs.
const (
	URNUser        = "urn:ietf:params:scim:schemas:core:2.0:User"
	URNGroup       = "urn:ietf:params:scim:schemas:core:2.0:Group"
	URNEnterprise  = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	URNRoster      = "urn:ietf:params:scim:schemas:extension:roster:2.0:User"
	URNListResp    = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	URNPatchOp     = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	URNSearch      = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	URNError       = "urn:ietf:params:scim:api:messages:2.0:Error"
	URNSPConfig    = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	mediaType      = "application/scim+json"
	defaultCount   = 100
	maxCount       = 1000
	defaultMaxBody = 1 << 20
)

// Schema definitions, built with the library's schema package so that its
// /Schemas and /ResourceTypes documents describe exactly what roster stores:
// attributes roster does not keep (addresses, photos, x509 certificates, …)
// are left out rather than silently dropped.

func str(name, desc string, required bool) schema.SimpleParams {
	return schema.SimpleStringParams(schema.StringParams{Name: name, Description: optional.NewString(desc), Required: required})
}

func roStr(name, desc string) schema.SimpleParams {
	return schema.SimpleStringParams(schema.StringParams{Name: name, Description: optional.NewString(desc), Mutability: schema.AttributeMutabilityReadOnly()})
}

func simple(p schema.SimpleParams) schema.CoreAttribute { return schema.SimpleCoreAttribute(p) }

// ref is a readOnly reference attribute ($ref) to resources of the given types.
func ref(desc string, types ...schema.AttributeReferenceType) schema.SimpleParams {
	return schema.SimpleReferenceParams(schema.ReferenceParams{Name: "$ref", Description: optional.NewString(desc),
		ReferenceTypes: types, Mutability: schema.AttributeMutabilityReadOnly()})
}

// docAttrsAt are the schema's document attributes held by obj ("" for the
// resource, "name", or an extension URN), as the library's attribute
// definitions: /Schemas describes exactly the rows of core.UserSchema.
func docAttrsAt(obj string) []schema.CoreAttribute {
	var out []schema.CoreAttribute
	for _, def := range docAttributes {
		o, key := scimPath(def.SCIM)
		if o != obj || def.Name == core.AttrNameRoles {
			continue
		}
		desc := def.Label
		if def.Search {
			desc += " (filterable)"
		}
		if def.Kind != core.KindMulti {
			out = append(out, simple(str(key, desc+".", false)))
			continue
		}
		out = append(out, multiValued(key, desc, def))
	}
	return out
}

// docSubAttrs are the simple sub-attributes the schema puts under obj.
func docSubAttrs(obj string) []schema.SimpleParams {
	var out []schema.SimpleParams
	for _, def := range docAttributes {
		if o, key := scimPath(def.SCIM); o == obj && def.Kind != core.KindMulti {
			out = append(out, str(key, def.Label+".", false))
		}
	}
	return out
}

// multiValued is a multi-valued attribute kept as sent: value (or an
// address's parts), type, primary and display.
func multiValued(name, desc string, def *core.Attribute) schema.CoreAttribute {
	var subs []schema.SimpleParams
	if len(def.Parts) == 0 {
		value := schema.StringParams{Name: "value", Description: optional.NewString("The value.")}
		if def.Name == core.AttrNameEmails {
			// The primary email is unique per organisation (a duplicate is
			// 409); another user's secondary email is not checked.
			value.Uniqueness = schema.AttributeUniquenessServer()
			value.Description = optional.NewString("The address. The primary one (else type work, else the first) is unique per organisation.")
		}
		subs = append(subs, schema.SimpleStringParams(value))
	}
	for _, part := range def.Parts {
		subs = append(subs, str(scimPart(part), strings.ReplaceAll(part, "_", " ")+".", false))
	}
	subs = append(subs,
		schema.SimpleStringParams(schema.StringParams{Name: "type", CanonicalValues: def.Types, Description: optional.NewString("The value's type, kept as sent.")}),
		schema.SimpleBooleanParams(schema.BooleanParams{Name: "primary", Description: optional.NewString("The primary value (at most one).")}),
		str("display", "A human-readable name.", false))
	return schema.ComplexCoreAttribute(schema.ComplexParams{Name: name, MultiValued: true,
		Description: optional.NewString(desc + ": every value is kept as sent, with its type and primary flag (at most 16)."), SubAttributes: subs})
}

func userSchema() schema.Schema {
	return schema.Schema{
		ID: URNUser, Name: optional.NewString("User"), Description: optional.NewString("User Account"),
		Attributes: append([]schema.CoreAttribute{
			simple(schema.SimpleStringParams(schema.StringParams{Name: "userName", Required: true, Uniqueness: schema.AttributeUniquenessServer(),
				Description: optional.NewString("Unique per organisation, compared case-insensitively; at most 256 characters, no spaces.")})),
			schema.ComplexCoreAttribute(schema.ComplexParams{Name: "name", Description: optional.NewString("The user's name."),
				SubAttributes: append([]schema.SimpleParams{
					str("givenName", "First name (at most 128 characters).", false),
					str("familyName", "Last name (at most 128 characters).", false),
				}, docSubAttrs("name")...)}),
			simple(str("displayName", "Display name; \"First Last\" when not set.", false)),
			simple(str("preferredLanguage", "A language tag such as en or pt-BR.", false)),
			simple(schema.SimpleBooleanParams(schema.BooleanParams{Name: "active",
				Description: optional.NewString("false disables the user (sessions end); true re-enables. Invited users are active.")})),
			simple(schema.SimpleStringParams(schema.StringParams{Name: "password", Mutability: schema.AttributeMutabilityWriteOnly(), Returned: schema.AttributeReturnedNever(),
				Description: optional.NewString("Accepted on create and discarded (directory users authenticate with their identity provider); " +
					"refused in PUT and PATCH with mutability, as changePassword is not supported.")})),
			schema.ComplexCoreAttribute(schema.ComplexParams{Name: "roles", MultiValued: true,
				Description: optional.NewString("Role values, kept as sent; role rules and roster org role names map them to the org role."),
				SubAttributes: []schema.SimpleParams{str("value", "The role value.", false), str("type", "The role's type.", false),
					str("display", "A human-readable name.", false),
					schema.SimpleBooleanParams(schema.BooleanParams{Name: "primary", Description: optional.NewString("The primary role.")})}}),
			schema.ComplexCoreAttribute(schema.ComplexParams{Name: "groups", MultiValued: true, Mutability: schema.AttributeMutabilityReadOnly(),
				Description: optional.NewString("Groups the user belongs to (read-only: change memberships on the Group)."),
				SubAttributes: []schema.SimpleParams{roStr("value", "Group id."), roStr("display", "Group name."), ref("Group URI.", "Group"),
					schema.SimpleStringParams(schema.StringParams{Name: "type", Description: optional.NewString("direct"), CanonicalValues: []string{"direct"},
						Mutability: schema.AttributeMutabilityReadOnly()})}}),
		}, docAttrsAt("")...),
	}
}

func enterpriseSchema() schema.Schema {
	return schema.Schema{
		ID: URNEnterprise, Name: optional.NewString("EnterpriseUser"), Description: optional.NewString("Enterprise User"),
		Attributes: append(docAttrsAt(URNEnterprise),
			schema.ComplexCoreAttribute(schema.ComplexParams{Name: "manager", Description: optional.NewString("The user's manager; a bare id string is accepted too."),
				SubAttributes: []schema.SimpleParams{str("value", "The manager's id: a user of the same SCIM client, not the user.", false), ref("The manager's URI.", "User")}})),
	}
}

func rosterSchema() schema.Schema {
	return schema.Schema{
		ID: URNRoster, Name: optional.NewString("RosterUser"), Description: optional.NewString("roster's own user attributes"),
		Attributes: []schema.CoreAttribute{
			simple(schema.SimpleStringParams(schema.StringParams{Name: "role", CanonicalValues: []string{"owner", "admin", "user_manager", "developer", "member"},
				Description: optional.NewString("Org role. When sent, it is the user's role; otherwise role rules and roles values decide.")})),
			simple(schema.SimpleBooleanParams(schema.BooleanParams{Name: "canCreateApps", Description: optional.NewString("The user may create apps.")})),
			schema.ComplexCoreAttribute(schema.ComplexParams{Name: "metadata", MultiValued: true,
				Description:   optional.NewString("Custom metadata, validated against the organisation's template."),
				SubAttributes: []schema.SimpleParams{str("name", "Field name.", true), str("value", "Field value.", false)}}),
			simple(roStr("status", "Lifecycle status: invited, active, disabled, locked, inactive.")),
			simple(roStr("inviteStatus", "none, pending, expired, mail_error, accepted, on_hold (the invitee is disabled or archived).")),
			simple(roStr("inviteReason", "Why an invited user has invite status none: no_email (created without an email: no invitation sent) or not_sent (email set since, invitation not sent yet).")),
		},
	}
}

func groupSchema() schema.Schema {
	return schema.Schema{
		ID: URNGroup, Name: optional.NewString("Group"), Description: optional.NewString("Group"),
		Attributes: []schema.CoreAttribute{
			simple(schema.SimpleStringParams(schema.StringParams{Name: "displayName", Required: true, Uniqueness: schema.AttributeUniquenessServer(),
				Description: optional.NewString("Group name, unique per organisation (case-insensitive).")})),
			schema.ComplexCoreAttribute(schema.ComplexParams{Name: "members", MultiValued: true, Description: optional.NewString("Users in the group (users of the same SCIM client)."),
				SubAttributes: []schema.SimpleParams{str("value", "User id.", false), ref("User URI.", "User"), roStr("display", "Username."),
					schema.SimpleStringParams(schema.StringParams{Name: "type", Description: optional.NewString("User (groups hold users only)."), CanonicalValues: []string{"User"}})}}),
		},
	}
}

// serviceProviderConfig is served by roster itself: the library's document
// hard-codes sort and etag as unsupported, and roster supports both. It holds
// only the attributes of RFC 7643 §5: the body limit is bulk.maxPayloadSize
// (the only place §5 has for it), and applies to every request.
func serviceProviderConfig(maxBody int64, base, docURL string) map[string]any {
	return map[string]any{
		"schemas":          []string{URNSPConfig},
		"documentationUri": docURL,
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": maxBody},
		"filter":           map[string]any{"supported": true, "maxResults": maxCount},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": true},
		"etag":             map[string]any{"supported": true},
		"authenticationSchemes": []map[string]any{{
			"type": "oauthbearertoken", "name": "OAuth Bearer Token", "primary": true,
			"description": "A per-organisation bearer token from `roster token create --scope scim`.",
			"specUri":     "https://www.rfc-editor.org/info/rfc6750",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": base + "/ServiceProviderConfig"},
	}
}
