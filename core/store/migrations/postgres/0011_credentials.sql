-- Signed records (federation). Each signer's keys as published in its DID document: the
-- tenant's, and the node operator's under the reserved realm 'node'; a version is valid from
-- when the node first signed with it until the next version took over, and records it signed
-- within that window verify for ever. The credentials each tenant issued (W3C Verifiable
-- Credentials with their proofs), one for each registration, service record and certificate,
-- each appended to the tenant's transparency log in the same transaction. The salt of a
-- registration's identity commitment is sealed with the tenant's data key: with it and the
-- credential anyone could test guesses of the identity number.

CREATE TABLE signing_keys (
    tenant_code TEXT COLLATE "C" NOT NULL REFERENCES tenants (code),
    version     INTEGER NOT NULL CHECK (version >= 1),
    public_key  TEXT COLLATE "C" NOT NULL,
    valid_from  BIGINT NOT NULL,
    valid_until BIGINT,
    PRIMARY KEY (tenant_code, version),
    UNIQUE (tenant_code, public_key),
    CHECK (valid_until IS NULL OR valid_until >= valid_from)
);

CREATE TABLE credentials (
    tenant_code   TEXT COLLATE "C" NOT NULL,
    id            TEXT COLLATE "C" NOT NULL,
    kind          TEXT COLLATE "C" NOT NULL CHECK (kind IN ('registration', 'service_record', 'certificate')),
    subject_id    TEXT COLLATE "C" NOT NULL,
    volunteer_id  TEXT COLLATE "C" NOT NULL,
    document      TEXT NOT NULL,
    issued_at     BIGINT NOT NULL,
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

CREATE FUNCTION signed_records_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'signing_keys'
        AND OLD.valid_until IS NULL AND NEW.valid_until IS NOT NULL
        AND NEW.public_key = OLD.public_key AND NEW.valid_from = OLD.valid_from
        AND NEW.version = OLD.version AND NEW.tenant_code = OLD.tenant_code THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'signed records are append-only: a key is only ever retired'
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER signing_keys_fixed BEFORE UPDATE OR DELETE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION signed_records_fixed();
CREATE TRIGGER credentials_fixed BEFORE UPDATE OR DELETE ON credentials
    FOR EACH ROW EXECUTE FUNCTION signed_records_fixed();
CREATE TRIGGER signing_keys_no_truncate BEFORE TRUNCATE ON signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION signed_records_fixed();
CREATE TRIGGER credentials_no_truncate BEFORE TRUNCATE ON credentials
    FOR EACH STATEMENT EXECUTE FUNCTION signed_records_fixed();

-- The salt of each volunteer's identity commitment, sealed like the number it commits to and
-- resealed with it when the data key is rotated.
ALTER TABLE volunteers ADD COLUMN commitment_salt_sealed BYTEA;

-- The logs of peer nodes this node witnesses (C2SP tlog-cosignature): per log, the largest
-- checkpoint it checked and cosigned, and the alarm it raised if the log forked, shrank or
-- stopped extending what it had cosigned, with the two checkpoints that show it; and the copy of
-- the tenant's DID document it checked the checkpoint with, so that the tenant's records stay
-- checkable if its node disappears. Kept by the node itself (realm 'node').
CREATE TABLE witnessed_logs (
    tenant_code TEXT COLLATE "C" NOT NULL REFERENCES tenants (code),
    origin      TEXT COLLATE "C" NOT NULL,
    size        BIGINT NOT NULL CHECK (size >= 0),
    root        TEXT NOT NULL,
    checkpoint  TEXT NOT NULL,
    did_document TEXT NOT NULL,
    checked_at  BIGINT NOT NULL,
    alarm       TEXT,
    evidence    TEXT,
    alarm_at    BIGINT,
    PRIMARY KEY (tenant_code, origin)
);
