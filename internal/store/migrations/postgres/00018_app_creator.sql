-- +goose Up
-- Who created an app: a person's user id ('' for the operator, a token
-- without a person, and apps made before this migration). A member allowed
-- to create apps (can_create_apps) manages the apps they created.
ALTER TABLE apps ADD COLUMN created_by_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE apps DROP COLUMN created_by_id;
