-- +goose Up
-- The core schema. Timestamps are UTC; *_key columns hold the Unicode
-- case-folded form used for case-insensitive uniqueness and lookups.

CREATE TABLE orgs (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL
);

CREATE TABLE users (
    seq                   INTEGER PRIMARY KEY AUTOINCREMENT,
    id                    TEXT NOT NULL UNIQUE,
    org_id                TEXT NOT NULL REFERENCES orgs(id),
    username              TEXT NOT NULL,
    username_key          TEXT NOT NULL,
    email                 TEXT NOT NULL DEFAULT '',
    email_key             TEXT NOT NULL DEFAULT '',
    first_name            TEXT NOT NULL DEFAULT '',
    last_name             TEXT NOT NULL DEFAULT '',
    last_name_key         TEXT NOT NULL DEFAULT '',
    phone                 TEXT NOT NULL DEFAULT '',
    language              TEXT NOT NULL DEFAULT '',
    role                  TEXT NOT NULL,
    role_rank             INTEGER NOT NULL,
    can_create_apps       BOOLEAN NOT NULL DEFAULT FALSE,
    status                TEXT NOT NULL,
    source                TEXT NOT NULL,
    external_id           TEXT NOT NULL DEFAULT '',
    metadata              TEXT NOT NULL DEFAULT '{}',
    invite_state          TEXT NOT NULL DEFAULT 'none',
    invite_expires_at     TIMESTAMP,
    invite_mail_error     TEXT NOT NULL DEFAULT '',
    password_hash         TEXT NOT NULL DEFAULT '',
    password_changed_at   TIMESTAMP,
    must_change_password  BOOLEAN NOT NULL DEFAULT FALSE,
    failed_logins         INTEGER NOT NULL DEFAULT 0,
    status_before_archive TEXT NOT NULL DEFAULT '',
    activated_at          TIMESTAMP,
    last_login_at         TIMESTAMP,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL,
    CHECK (status IN ('invited','active','disabled','locked','inactive','archived')),
    CHECK (role IN ('owner','admin','user_manager','developer','member')),
    CHECK (invite_state IN ('none','sent','mail_error','accepted'))
);
CREATE UNIQUE INDEX users_org_username ON users(org_id, username_key);
CREATE UNIQUE INDEX users_org_email ON users(org_id, email_key) WHERE email_key <> '';
CREATE UNIQUE INDEX users_org_external ON users(org_id, source, external_id) WHERE external_id <> '';
CREATE INDEX users_org_last_name ON users(org_id, last_name_key, seq);
CREATE INDEX users_org_role ON users(org_id, role_rank, seq);

CREATE TABLE metadata_fields (
    org_id   TEXT NOT NULL REFERENCES orgs(id),
    position INTEGER NOT NULL,
    name     TEXT NOT NULL,
    label    TEXT NOT NULL DEFAULT '',
    type     TEXT NOT NULL,
    required BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (org_id, name)
);

CREATE TABLE groups (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    source      TEXT NOT NULL,
    external_id TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX groups_org_name ON groups(org_id, name_key);
CREATE UNIQUE INDEX groups_org_external ON groups(org_id, source, external_id) WHERE external_id <> '';

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members(user_id);

CREATE TABLE apps (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX apps_org_name ON apps(org_id, name_key);

CREATE TABLE app_users (
    app_id   TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    app_role TEXT NOT NULL,
    PRIMARY KEY (app_id, user_id)
);
CREATE INDEX app_users_user ON app_users(user_id);

CREATE TABLE app_groups (
    app_id   TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    app_role TEXT NOT NULL,
    PRIMARY KEY (app_id, group_id)
);
CREATE INDEX app_groups_group ON app_groups(group_id);

CREATE TABLE invites (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP,
    voided_at  TIMESTAMP
);
CREATE INDEX invites_user ON invites(user_id);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    audience   TEXT NOT NULL CHECK (audience IN ('console','catalog')),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id, audience);

CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    name       TEXT NOT NULL,
    scope      TEXT NOT NULL CHECK (scope IN ('scim','admin')),
    user_id    TEXT REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX api_tokens_org_name ON api_tokens(org_id, scope, name);

-- History outlives the users it describes: no foreign key to users.
CREATE TABLE history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    at          TIMESTAMP NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor_id    TEXT NOT NULL DEFAULT '',
    actor_name  TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    before_json TEXT NOT NULL DEFAULT '',
    after_json  TEXT NOT NULL DEFAULT '',
    request_id  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX history_target ON history(org_id, target_id, id);

INSERT INTO orgs (id, name, display_name, created_at)
VALUES ('00000000-0000-0000-0000-000000000001', 'default', 'Default', CURRENT_TIMESTAMP);

-- +goose Down
DROP TABLE history;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE invites;
DROP TABLE app_groups;
DROP TABLE app_users;
DROP TABLE apps;
DROP TABLE group_members;
DROP TABLE groups;
DROP TABLE metadata_fields;
DROP TABLE users;
DROP TABLE orgs;
