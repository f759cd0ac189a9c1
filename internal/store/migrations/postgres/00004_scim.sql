-- +goose Up
-- PostgreSQL twin of the SQLite migration with the same number: text
-- compares bytewise (COLLATE "C", as SQLite does), timestamps are timestamptz.
-- SCIM: the attributes of SCIM users that the core user does not carry,
-- per-token SCIM settings, and indexes for the filters identity providers send.

CREATE TABLE scim_users (
    user_id             TEXT COLLATE "C" PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    org_id              TEXT COLLATE "C" NOT NULL REFERENCES orgs(id),
    display_name        TEXT COLLATE "C" NOT NULL DEFAULT '',
    display_name_key    TEXT COLLATE "C" NOT NULL DEFAULT '',
    nick_name           TEXT COLLATE "C" NOT NULL DEFAULT '',
    title               TEXT COLLATE "C" NOT NULL DEFAULT '',
    user_type           TEXT COLLATE "C" NOT NULL DEFAULT '',
    employee_number     TEXT COLLATE "C" NOT NULL DEFAULT '',
    employee_number_key TEXT COLLATE "C" NOT NULL DEFAULT '',
    cost_center         TEXT COLLATE "C" NOT NULL DEFAULT '',
    organization        TEXT COLLATE "C" NOT NULL DEFAULT '',
    division            TEXT COLLATE "C" NOT NULL DEFAULT '',
    department          TEXT COLLATE "C" NOT NULL DEFAULT '',
    department_key      TEXT COLLATE "C" NOT NULL DEFAULT '',
    manager_id          TEXT COLLATE "C" NOT NULL DEFAULT '',
    roles               TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    base_role           TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX scim_users_display ON scim_users(display_name_key);
CREATE INDEX scim_users_employee ON scim_users(employee_number_key);
CREATE INDEX scim_users_department ON scim_users(department_key);

CREATE TABLE scim_tokens (
    token_id     TEXT COLLATE "C" PRIMARY KEY REFERENCES api_tokens(id) ON DELETE CASCADE,
    invite       BOOLEAN NOT NULL DEFAULT TRUE,
    default_role TEXT COLLATE "C" NOT NULL DEFAULT 'member',
    role_rules   TEXT COLLATE "C" NOT NULL DEFAULT '[]'
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
