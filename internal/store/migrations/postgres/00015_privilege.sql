-- +goose Up
-- PostgreSQL twin of the SQLite migration with the same number.
-- Privilege (issue 15). A SCIM token grants at most its role ceiling: its
-- creator's powers, admin unless an owner asked for owner. Tokens from
-- before this migration get admin: owners are no longer made by an IdP
-- unless an owner re-creates the token with role ceiling owner.
ALTER TABLE api_tokens ADD COLUMN role_ceiling TEXT COLLATE "C" NOT NULL DEFAULT '';
-- Who created the token: a person's user id and username, or '' and 'cli'.
ALTER TABLE api_tokens ADD COLUMN created_by_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN created_by_name TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE api_tokens SET role_ceiling = 'admin' WHERE scope = 'scim';
-- History names the admin token a person acted through, and its creator.
ALTER TABLE history ADD COLUMN token_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE history ADD COLUMN token_created_by TEXT COLLATE "C" NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE history DROP COLUMN token_created_by;
ALTER TABLE history DROP COLUMN token_id;
ALTER TABLE api_tokens DROP COLUMN created_by_name;
ALTER TABLE api_tokens DROP COLUMN created_by_id;
ALTER TABLE api_tokens DROP COLUMN role_ceiling;
