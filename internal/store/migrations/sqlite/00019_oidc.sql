-- +goose Up
-- roster as an OpenID Provider for the platform's apps (issue 22).
-- An app that is an OIDC client: its client_id is the app's id. A
-- confidential client has the SHA-256 of its secret (shown once); a public
-- one has none and must use PKCE. URI lists are JSON arrays.
CREATE TABLE oidc_clients (
    app_id             TEXT PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
    org_id             TEXT NOT NULL REFERENCES orgs(id),
    public             BOOLEAN NOT NULL DEFAULT FALSE,
    secret_hash        TEXT NOT NULL DEFAULT '',
    redirect_uris      TEXT NOT NULL DEFAULT '[]',
    post_logout_uris   TEXT NOT NULL DEFAULT '[]',
    backchannel_logout_uri TEXT NOT NULL DEFAULT '',
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);
CREATE INDEX oidc_clients_org ON oidc_clients(org_id);

-- An authorization request between /authorize and the code exchange. The
-- protocol parameters are the door's (params, JSON); the code is stored as
-- its SHA-256.
CREATE TABLE oidc_auth_requests (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    app_id     TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL DEFAULT '',
    session_id TEXT NOT NULL DEFAULT '',
    params     TEXT NOT NULL,
    code_hash  TEXT,
    auth_time  TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX oidc_auth_requests_code ON oidc_auth_requests(code_hash);
CREATE INDEX oidc_auth_requests_expires ON oidc_auth_requests(expires_at);

-- Access tokens (JWTs, found by id) and refresh tokens (opaque, found by
-- SHA-256). A refresh token is used once: its successor names it in
-- replaced_by; presenting a used one again revokes the whole chain (family).
CREATE TABLE oidc_tokens (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    app_id      TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    family      TEXT NOT NULL,
    token_hash  TEXT,
    scopes      TEXT NOT NULL DEFAULT '',
    amr         TEXT NOT NULL DEFAULT '',
    auth_time   TIMESTAMP NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP,
    revoked_at  TIMESTAMP
);
CREATE UNIQUE INDEX oidc_tokens_hash ON oidc_tokens(token_hash);
CREATE INDEX oidc_tokens_user ON oidc_tokens(user_id);
CREATE INDEX oidc_tokens_family ON oidc_tokens(family);
CREATE INDEX oidc_tokens_expires ON oidc_tokens(expires_at);

-- Signing keys (PKCS#8 DER, base64). The newest is the signing key; a
-- retired one is still published for verification until every token it
-- signed has expired, then deleted.
CREATE TABLE oidc_keys (
    id          TEXT PRIMARY KEY,
    alg         TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    retired_at  TIMESTAMP
);

-- +goose Down
DROP TABLE oidc_keys;
DROP TABLE oidc_tokens;
DROP TABLE oidc_auth_requests;
DROP TABLE oidc_clients;
