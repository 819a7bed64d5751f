-- Signed records (federation). Each signer's keys as published in its DID document: the
-- tenant's, and the node operator's under the reserved realm 'node'; a version is valid from
-- when the node first signed with it until the next version took over, and records it signed
-- within that window verify for ever. The credentials each tenant issued (W3C Verifiable
-- Credentials with their proofs), one for each registration, service record and certificate,
-- each appended to the tenant's transparency log in the same transaction. The salt of a
-- registration's identity commitment is sealed with the tenant's data key: with it and the
-- credential anyone could test guesses of the identity number.

CREATE TABLE signing_keys (
    tenant_code TEXT NOT NULL REFERENCES tenants (code),
    version     INTEGER NOT NULL CHECK (version >= 1),
    public_key  TEXT NOT NULL,
    valid_from  INTEGER NOT NULL,
    valid_until INTEGER,
    PRIMARY KEY (tenant_code, version),
    UNIQUE (tenant_code, public_key),
    CHECK (valid_until IS NULL OR valid_until >= valid_from)
);

CREATE TABLE credentials (
    tenant_code   TEXT NOT NULL,
    id            TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('registration', 'service_record', 'certificate')),
    subject_id    TEXT NOT NULL,
    volunteer_id  TEXT NOT NULL,
    document      TEXT NOT NULL,
    issued_at     INTEGER NOT NULL,
    PRIMARY KEY (tenant_code, id),
    UNIQUE (tenant_code, kind, subject_id),
    FOREIGN KEY (tenant_code, volunteer_id) REFERENCES volunteers (tenant_code, id)
);
CREATE INDEX credentials_of_volunteer ON credentials (tenant_code, volunteer_id, issued_at);
CREATE INDEX credentials_by_time ON credentials (tenant_code, issued_at, id);
-- The issuer looks, a round a second, at what was decided, recorded or issued lately.
CREATE INDEX volunteers_by_decision ON volunteers (tenant_code, decided_at);
CREATE INDEX service_records_by_recording ON service_records (tenant_code, recorded_at);
CREATE INDEX certificates_by_issue ON certificates (tenant_code, issued_at);

CREATE TRIGGER signing_keys_retired_only BEFORE UPDATE ON signing_keys
WHEN NOT (OLD.valid_until IS NULL AND NEW.valid_until IS NOT NULL
          AND NEW.public_key = OLD.public_key AND NEW.valid_from = OLD.valid_from
          AND NEW.version = OLD.version AND NEW.tenant_code = OLD.tenant_code)
BEGIN
    SELECT RAISE(ABORT, 'signed records are append-only: a key is only ever retired');
END;
CREATE TRIGGER signing_keys_fixed_delete BEFORE DELETE ON signing_keys
BEGIN
    SELECT RAISE(ABORT, 'signed records are append-only: a key is only ever retired');
END;
CREATE TRIGGER credentials_fixed_update BEFORE UPDATE ON credentials
BEGIN
    SELECT RAISE(ABORT, 'signed records are append-only');
END;
CREATE TRIGGER credentials_fixed_delete BEFORE DELETE ON credentials
BEGIN
    SELECT RAISE(ABORT, 'signed records are append-only');
END;

-- The salt of each volunteer's identity commitment, sealed like the number it commits to and
-- resealed with it when the data key is rotated.
ALTER TABLE volunteers ADD COLUMN commitment_salt_sealed BLOB;

-- The logs of peer nodes this node witnesses (C2SP tlog-cosignature): per log, the largest
-- checkpoint it checked and cosigned, and the alarm it raised if the log forked, shrank or
-- stopped extending what it had cosigned, with the two checkpoints that show it; and the copy of
-- the tenant's DID document it checked the checkpoint with, so that the tenant's records stay
-- checkable if its node disappears. Kept by the node itself (realm 'node').
CREATE TABLE witnessed_logs (
    tenant_code TEXT NOT NULL REFERENCES tenants (code),
    origin      TEXT NOT NULL,
    size        INTEGER NOT NULL CHECK (size >= 0),
    root        TEXT NOT NULL,
    checkpoint  TEXT NOT NULL,
    did_document TEXT NOT NULL,
    checked_at  INTEGER NOT NULL,
    alarm       TEXT,
    evidence    TEXT,
    alarm_at    INTEGER,
    PRIMARY KEY (tenant_code, origin)
);
