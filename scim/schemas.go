package scim

import (
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
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

// oneValue is emails or phoneNumbers: roster keeps one value and renders it
// as type work and primary, so type and primary are readOnly (they choose
// which value is kept, and are not stored), and display is not offered.
func oneValue(name, desc string, unique bool) schema.CoreAttribute {
	value := schema.StringParams{Name: "value", Description: optional.NewString("The value.")}
	if unique {
		value.Uniqueness = schema.AttributeUniquenessServer()
	}
	return schema.ComplexCoreAttribute(schema.ComplexParams{
		Name: name, Description: optional.NewString(desc), MultiValued: true,
		SubAttributes: []schema.SimpleParams{
			schema.SimpleStringParams(value),
			schema.SimpleStringParams(schema.StringParams{Name: "type", CanonicalValues: []string{"work"}, Mutability: schema.AttributeMutabilityReadOnly(),
				Description: optional.NewString("Always work: a type sent only helps choose the value kept.")}),
			schema.SimpleBooleanParams(schema.BooleanParams{Name: "primary", Mutability: schema.AttributeMutabilityReadOnly(),
				Description: optional.NewString("Always true: a primary sent only helps choose the value kept.")}),
		},
	})
}

func userSchema() schema.Schema {
	return schema.Schema{
		ID: URNUser, Name: optional.NewString("User"), Description: optional.NewString("User Account"),
		Attributes: []schema.CoreAttribute{
			simple(schema.SimpleStringParams(schema.StringParams{Name: "userName", Required: true, Uniqueness: schema.AttributeUniquenessServer(),
				Description: optional.NewString("Unique per organisation, compared case-insensitively; at most 256 characters, no spaces.")})),
			schema.ComplexCoreAttribute(schema.ComplexParams{Name: "name", Description: optional.NewString("The user's name."),
				SubAttributes: []schema.SimpleParams{
					str("givenName", "First name (at most 128 characters).", false),
					str("familyName", "Last name (at most 128 characters).", false),
					roStr("formatted", "\"First Last\", derived."),
				}}),
			simple(str("displayName", "Display name; \"First Last\" when not set.", false)),
			simple(str("nickName", "Casual name.", false)),
			simple(str("title", "Job title.", false)),
			simple(str("userType", "Relationship to the organisation.", false)),
			simple(str("preferredLanguage", "A language tag such as en or pt-BR.", false)),
			simple(schema.SimpleBooleanParams(schema.BooleanParams{Name: "active",
				Description: optional.NewString("false disables the user (sessions end); true re-enables. Invited users are active.")})),
			simple(schema.SimpleStringParams(schema.StringParams{Name: "password", Mutability: schema.AttributeMutabilityWriteOnly(), Returned: schema.AttributeReturnedNever(),
				Description: optional.NewString("Accepted on create and discarded (directory users authenticate with their identity provider); " +
					"refused in PUT and PATCH with mutability, as changePassword is not supported.")})),
			oneValue("emails", "One email address (the primary one, else type work, else the first) is kept; unique per organisation.", true),
			oneValue("phoneNumbers", "One phone number (the primary one, else type work, else the first) is kept.", false),
			schema.ComplexCoreAttribute(schema.ComplexParams{Name: "roles", MultiValued: true,
				Description:   optional.NewString("Role values; role rules and roster org role names map them to the org role."),
				SubAttributes: []schema.SimpleParams{str("value", "The role value.", false)}}),
			schema.ComplexCoreAttribute(schema.ComplexParams{Name: "groups", MultiValued: true, Mutability: schema.AttributeMutabilityReadOnly(),
				Description: optional.NewString("Groups the user belongs to (read-only: change memberships on the Group)."),
				SubAttributes: []schema.SimpleParams{roStr("value", "Group id."), roStr("display", "Group name."), ref("Group URI.", "Group"),
					schema.SimpleStringParams(schema.StringParams{Name: "type", Description: optional.NewString("direct"), CanonicalValues: []string{"direct"},
						Mutability: schema.AttributeMutabilityReadOnly()})}}),
		},
	}
}

func enterpriseSchema() schema.Schema {
	return schema.Schema{
		ID: URNEnterprise, Name: optional.NewString("EnterpriseUser"), Description: optional.NewString("Enterprise User"),
		Attributes: []schema.CoreAttribute{
			simple(str("employeeNumber", "Employee number (filterable).", false)),
			simple(str("costCenter", "Cost center.", false)),
			simple(str("organization", "Organization.", false)),
			simple(str("division", "Division.", false)),
			simple(str("department", "Department (filterable).", false)),
			schema.ComplexCoreAttribute(schema.ComplexParams{Name: "manager", Description: optional.NewString("The user's manager; a bare id string is accepted too."),
				SubAttributes: []schema.SimpleParams{str("value", "The manager's id: a user of the same SCIM client, not the user.", false), ref("The manager's URI.", "User")}}),
		},
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
			simple(roStr("inviteStatus", "none, pending, expired, mail_error, accepted.")),
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
