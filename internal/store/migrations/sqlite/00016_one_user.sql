-- +goose Up
-- One home for a user's attributes. What scim_users held moves onto the
-- user: display name, manager and the directory's explicit role as columns,
-- the rest into the typed attribute document (users.attributes, JSON keyed
-- by the schema's API names, empty values left out). The search index
-- user_search replaces user_metadata: it holds the folded values of every
-- searchable attribute that is not a column, custom fields under
-- "metadata.<name>", several values per attribute allowed (emails.value).
-- Migration 00017 (Go) fills display_name_key and user_search with
-- core.FoldKey, which SQL cannot compute.

ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN display_name_key TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN manager_id TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN base_role TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';

UPDATE users SET
    display_name = (SELECT s.display_name FROM scim_users s WHERE s.user_id = users.id),
    manager_id = (SELECT s.manager_id FROM scim_users s WHERE s.user_id = users.id),
    base_role = (SELECT s.base_role FROM scim_users s WHERE s.user_id = users.id),
    -- json_patch drops the keys whose value is null: the empty ones.
    attributes = (SELECT json_patch('{}', json_object(
        'nick_name', NULLIF(s.nick_name, ''),
        'title', NULLIF(s.title, ''),
        'user_type', NULLIF(s.user_type, ''),
        'employee_number', NULLIF(s.employee_number, ''),
        'cost_center', NULLIF(s.cost_center, ''),
        'organization', NULLIF(s.organization, ''),
        'division', NULLIF(s.division, ''),
        'department', NULLIF(s.department, ''),
        'roles', CASE WHEN s.roles IN ('', '[]') THEN NULL
            ELSE json((SELECT json_group_array(json_object('value', r.value)) FROM json_each(s.roles) r)) END
        )) FROM scim_users s WHERE s.user_id = users.id)
WHERE id IN (SELECT user_id FROM scim_users);

CREATE INDEX users_org_display ON users(org_id, display_name_key, seq);

CREATE TABLE user_search (
    user_seq  INTEGER NOT NULL REFERENCES users(seq) ON DELETE CASCADE,
    org_id    TEXT NOT NULL,
    field     TEXT NOT NULL,
    value_key TEXT NOT NULL,
    PRIMARY KEY (user_seq, field, value_key)
);
CREATE INDEX user_search_lookup ON user_search(org_id, field, value_key, user_seq);
INSERT INTO user_search (user_seq, org_id, field, value_key)
    SELECT user_seq, org_id, 'metadata.' || field, value_key FROM user_metadata;
DROP TABLE user_metadata;
DROP TABLE scim_users;

-- +goose Down
-- Back to scim_users and user_metadata: the attributes 00004's table had
-- return to it (for users with any); the others (middle name, addresses,
-- secondary emails, …) are lost, as that release never kept them.
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
INSERT INTO scim_users (user_id, org_id, display_name, display_name_key, nick_name, title, user_type, employee_number,
    employee_number_key, cost_center, organization, division, department, department_key, manager_id, roles, base_role)
SELECT id, org_id, display_name, display_name_key, COALESCE(json_extract(attributes, '$.nick_name'), ''), COALESCE(json_extract(attributes, '$.title'), ''), COALESCE(json_extract(attributes, '$.user_type'), ''), COALESCE(json_extract(attributes, '$.employee_number'), ''),
    lower(COALESCE(json_extract(attributes, '$.employee_number'), '')), COALESCE(json_extract(attributes, '$.cost_center'), ''), COALESCE(json_extract(attributes, '$.organization'), ''), COALESCE(json_extract(attributes, '$.division'), ''), COALESCE(json_extract(attributes, '$.department'), ''),
    lower(COALESCE(json_extract(attributes, '$.department'), '')), manager_id, COALESCE((SELECT json_group_array(json_extract(r.value, '$.value')) FROM json_each(attributes, '$.roles') r), '[]'), base_role
FROM users WHERE source <> 'native' AND (display_name <> '' OR manager_id <> '' OR base_role <> '' OR attributes <> '{}');
CREATE TABLE user_metadata (
    user_seq  INTEGER NOT NULL REFERENCES users(seq) ON DELETE CASCADE,
    org_id    TEXT NOT NULL,
    field     TEXT NOT NULL,
    value_key TEXT NOT NULL,
    PRIMARY KEY (user_seq, field)
);
CREATE INDEX user_metadata_search ON user_metadata(org_id, field, value_key, user_seq);
INSERT INTO user_metadata (user_seq, org_id, field, value_key)
    SELECT user_seq, org_id, substr(field, 10), min(value_key) FROM user_search WHERE field LIKE 'metadata.%' GROUP BY user_seq, org_id, field;
DROP TABLE user_search;
DROP INDEX users_org_display;
ALTER TABLE users DROP COLUMN attributes;
ALTER TABLE users DROP COLUMN base_role;
ALTER TABLE users DROP COLUMN manager_id;
ALTER TABLE users DROP COLUMN display_name_key;
ALTER TABLE users DROP COLUMN display_name;
