-- Each tenant's transparency log (federation): what the tenant signed, as the entries of an
-- RFC 9162 Merkle tree. An entry is a credential's id and the SHA-256 of its canonical form,
-- nothing personal. The tree's hashes are kept in the stored-hash layout of C2SP tlog-tiles
-- (each entry's leaf hash followed by the hashes of the subtrees it completes), so that a
-- proof or a tile is read by primary key; the head is the tree's size and root as last
-- appended. Nothing of a log is ever changed or removed.

CREATE TABLE log_entries (
    tenant_code   TEXT COLLATE "C" NOT NULL,
    position      BIGINT NOT NULL CHECK (position >= 0),
    credential_id TEXT COLLATE "C" NOT NULL,
    digest        BYTEA NOT NULL CHECK (length(digest) = 32),
    appended_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_code, position),
    UNIQUE (tenant_code, credential_id)
);

CREATE TABLE log_hashes (
    tenant_code  TEXT COLLATE "C" NOT NULL,
    stored_index BIGINT NOT NULL CHECK (stored_index >= 0),
    hash         BYTEA NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (tenant_code, stored_index)
);

CREATE TABLE log_heads (
    tenant_code TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    size        BIGINT NOT NULL CHECK (size >= 0),
    root        BYTEA NOT NULL CHECK (length(root) = 32),
    updated_at  BIGINT NOT NULL
);

CREATE FUNCTION log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a transparency log is append-only' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER log_entries_append_only BEFORE UPDATE OR DELETE ON log_entries
    FOR EACH ROW EXECUTE FUNCTION log_append_only();
CREATE TRIGGER log_entries_no_truncate BEFORE TRUNCATE ON log_entries
    FOR EACH STATEMENT EXECUTE FUNCTION log_append_only();
CREATE TRIGGER log_hashes_append_only BEFORE UPDATE OR DELETE ON log_hashes
    FOR EACH ROW EXECUTE FUNCTION log_append_only();
CREATE TRIGGER log_hashes_no_truncate BEFORE TRUNCATE ON log_hashes
    FOR EACH STATEMENT EXECUTE FUNCTION log_append_only();
