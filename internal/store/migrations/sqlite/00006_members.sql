-- +goose Up
-- Group members keyed by (group, user) alone: a WITHOUT ROWID table is its
-- own primary-key index, so adding a member writes two b-trees, not three.
CREATE TABLE group_members_new (
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
INSERT INTO group_members_new (group_id, user_id) SELECT group_id, user_id FROM group_members;
DROP TABLE group_members;
ALTER TABLE group_members_new RENAME TO group_members;
CREATE INDEX group_members_user ON group_members(user_id);

-- +goose Down
CREATE TABLE group_members_old (
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
INSERT INTO group_members_old (group_id, user_id) SELECT group_id, user_id FROM group_members;
DROP TABLE group_members;
ALTER TABLE group_members_old RENAME TO group_members;
CREATE INDEX group_members_user ON group_members(user_id);
