-- +goose Up
-- SCIM: the attributes of SCIM users that the core user does not carry,
-- per-token SCIM settings, and indexes for the filters identity providers send.

CREATE TABLE scim_users (
    user_id             TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    org_id              TEXT NOT NULL REFERENCES orgs(id),
    display_name        TEXT NOT NULL DEFAULT '',
    display_name_key    TEXT NOT NULL DEFAULT '',
    nick_name           TEXT NOT NULL DEFAULT '',
    title               TEXT NOT NULL DEFAULT '',
    user_type           TEXT NOT NULL DEFAULT '',
    employee_number     TEXT NOT NULL DEFAULT '',
    employee_number_key TEXT NOT NULL DEFAULT '',
    cost_center         TEXT NOT NULL DEFAULT '',
    organization        TEXT NOT NULL DEFAULT '',
    division            TEXT NOT NULL DEFAULT '',
    department          TEXT NOT NULL DEFAULT '',
    department_key      TEXT NOT NULL DEFAULT '',
    manager_id          TEXT NOT NULL DEFAULT '',
    roles               TEXT NOT NULL DEFAULT '[]',
    base_role           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX scim_users_display ON scim_users(display_name_key);
CREATE INDEX scim_users_employee ON scim_users(employee_number_key);
CREATE INDEX scim_users_department ON scim_users(department_key);

CREATE TABLE scim_tokens (
    token_id     TEXT PRIMARY KEY REFERENCES api_tokens(id) ON DELETE CASCADE,
    invite       BOOLEAN NOT NULL DEFAULT TRUE,
    default_role TEXT NOT NULL DEFAULT 'member',
    role_rules   TEXT NOT NULL DEFAULT '[]'
);

-- Plain (non-partial) indexes so that "= ?" with a bound value can use them.
CREATE INDEX users_org_source_external ON users(org_id, source, external_id);
-- Also the users list's order by email (email_key, seq).
CREATE INDEX users_org_email_lookup ON users(org_id, email_key, seq, source, id);
CREATE INDEX users_org_updated ON users(org_id, updated_at);
CREATE INDEX groups_org_source_external ON groups(org_id, source, external_id);
-- SCIM lists a source's users in creation order, paged by startIndex; the
-- status makes counting and skipping archived users index-only.
CREATE INDEX users_org_source_seq ON users(org_id, source, seq, status);

-- +goose Down
DROP INDEX users_org_source_seq;
DROP INDEX groups_org_source_external;
DROP INDEX users_org_updated;
DROP INDEX users_org_email_lookup;
DROP INDEX users_org_source_external;
DROP TABLE scim_tokens;
DROP TABLE scim_users;
