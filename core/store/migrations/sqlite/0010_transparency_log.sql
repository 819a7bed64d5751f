-- Each tenant's transparency log (federation): what the tenant signed, as the entries of an
-- RFC 9162 Merkle tree. An entry is a credential's id and the SHA-256 of its canonical form,
-- nothing personal. The tree's hashes are kept in the stored-hash layout of C2SP tlog-tiles
-- (each entry's leaf hash followed by the hashes of the subtrees it completes), so that a
-- proof or a tile is read by primary key; the head is the tree's size and root as last
-- appended. Nothing of a log is ever changed or removed.

CREATE TABLE log_entries (
    tenant_code   TEXT NOT NULL,
    position      INTEGER NOT NULL CHECK (position >= 0),
    credential_id TEXT NOT NULL,
    digest        BLOB NOT NULL CHECK (length(digest) = 32),
    appended_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_code, position),
    UNIQUE (tenant_code, credential_id)
);

CREATE TABLE log_hashes (
    tenant_code  TEXT NOT NULL,
    stored_index INTEGER NOT NULL CHECK (stored_index >= 0),
    hash         BLOB NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (tenant_code, stored_index)
);

CREATE TABLE log_heads (
    tenant_code TEXT NOT NULL PRIMARY KEY,
    size        INTEGER NOT NULL CHECK (size >= 0),
    root        BLOB NOT NULL CHECK (length(root) = 32),
    updated_at  INTEGER NOT NULL
);

CREATE TRIGGER log_entries_append_only_update BEFORE UPDATE ON log_entries
BEGIN
    SELECT RAISE(ABORT, 'a transparency log is append-only');
END;
CREATE TRIGGER log_entries_append_only_delete BEFORE DELETE ON log_entries
BEGIN
    SELECT RAISE(ABORT, 'a transparency log is append-only');
END;
CREATE TRIGGER log_hashes_append_only_update BEFORE UPDATE ON log_hashes
BEGIN
    SELECT RAISE(ABORT, 'a transparency log is append-only');
END;
CREATE TRIGGER log_hashes_append_only_delete BEFORE DELETE ON log_hashes
BEGIN
    SELECT RAISE(ABORT, 'a transparency log is append-only');
END;
