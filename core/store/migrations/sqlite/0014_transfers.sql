-- A volunteer's transfer between tenants, of this node or another (R3): their registration and
-- hours go with them. The source freezes the volunteer from the request on (`transferring`:
-- read-only, no longer counted among the verified), sends the transfer through the outbox, and
-- marks them `transferred`, pointing at the destination, when the destination's receipt comes;
-- a refusal makes them verified again. The destination keeps what it received, with where it
-- came from, and counts the hours it carried once.

-- SQLite changes a CHECK constraint by building the table anew (applied with foreign keys
-- off, every foreign key checked before it commits), with its indexes and triggers.
CREATE TABLE volunteers_new (
    tenant_code        TEXT NOT NULL,
    id                 TEXT NOT NULL,
    account_id         TEXT,
    volunteer_number   TEXT,
    card_serial        BIGINT NOT NULL DEFAULT 0,
    name               TEXT NOT NULL,
    id_kind            TEXT NOT NULL,
    id_number_sealed   BLOB NOT NULL,
    id_number_index    TEXT NOT NULL,
    id_number_masked   TEXT NOT NULL,
    gender             TEXT,
    mobile             TEXT NOT NULL,
    region_code        TEXT NOT NULL,
    unit_id            TEXT,
    skills             TEXT NOT NULL,
    service_categories TEXT NOT NULL,
    availability       TEXT,
    status             TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'rejected', 'voided', 'transferring', 'transferred')),
    decision_reason    TEXT,
    applied_at         BIGINT NOT NULL,
    decided_at         BIGINT,
    decided_by         TEXT,
    star_level         BIGINT NOT NULL DEFAULT 0 CHECK (star_level BETWEEN 0 AND 5),
    commitment_salt_sealed BLOB,
    -- The destination tenant's DID, once transferred.
    transferred_to     TEXT,
    PRIMARY KEY (tenant_code, id),
    UNIQUE (tenant_code, account_id),
    UNIQUE (tenant_code, volunteer_number),
    FOREIGN KEY (tenant_code, account_id) REFERENCES accounts (tenant_code, id),
    FOREIGN KEY (tenant_code, region_code) REFERENCES regions (tenant_code, code),
    FOREIGN KEY (tenant_code, unit_id) REFERENCES units (tenant_code, id)
);
INSERT INTO volunteers_new (tenant_code, id, account_id, volunteer_number, card_serial, name,
    id_kind, id_number_sealed, id_number_index, id_number_masked, gender, mobile, region_code,
    unit_id, skills, service_categories, availability, status, decision_reason, applied_at,
    decided_at, decided_by, star_level, commitment_salt_sealed)
SELECT tenant_code, id, account_id, volunteer_number, card_serial, name, id_kind,
    id_number_sealed, id_number_index, id_number_masked, gender, mobile, region_code, unit_id,
    skills, service_categories, availability, status, decision_reason, applied_at, decided_at,
    decided_by, star_level, commitment_salt_sealed
FROM volunteers;
DROP TABLE volunteers;
ALTER TABLE volunteers_new RENAME TO volunteers;
CREATE INDEX volunteers_status ON volunteers (tenant_code, status, applied_at);
CREATE INDEX volunteers_unit ON volunteers (tenant_code, unit_id, status, region_code);
CREATE UNIQUE INDEX volunteers_one_registration ON volunteers (tenant_code, id_number_index)
WHERE status = 'verified';
CREATE INDEX volunteers_document ON volunteers (tenant_code, id_number_index);
CREATE INDEX volunteers_by_decision ON volunteers (tenant_code, decided_at);

CREATE TRIGGER volunteers_tally_insert AFTER INSERT ON volunteers
WHEN NEW.status = 'verified'
BEGIN
    INSERT INTO verified_tallies (tenant_code, unit_key, region_code, n)
    VALUES (NEW.tenant_code, COALESCE(NEW.unit_id, ''), NEW.region_code, 1)
    ON CONFLICT (tenant_code, unit_key, region_code) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER volunteers_tally_update AFTER UPDATE OF status, unit_id, region_code ON volunteers
WHEN OLD.status = 'verified' OR NEW.status = 'verified'
BEGIN
    UPDATE verified_tallies SET n = n - 1
    WHERE OLD.status = 'verified' AND tenant_code = OLD.tenant_code
      AND unit_key = COALESCE(OLD.unit_id, '') AND region_code = OLD.region_code;
    INSERT INTO verified_tallies (tenant_code, unit_key, region_code, n)
    SELECT NEW.tenant_code, COALESCE(NEW.unit_id, ''), NEW.region_code, 1
    WHERE NEW.status = 'verified'
    ON CONFLICT (tenant_code, unit_key, region_code) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER volunteers_tally_delete AFTER DELETE ON volunteers
WHEN OLD.status = 'verified'
BEGIN
    UPDATE verified_tallies SET n = n - 1
    WHERE tenant_code = OLD.tenant_code AND unit_key = COALESCE(OLD.unit_id, '')
      AND region_code = OLD.region_code;
END;

-- Whether the office reviews each volunteer who arrives (the tenant file's `transfers.review`),
-- rather than taking them as verified on the strength of the source's signed registration.
ALTER TABLE tenants ADD COLUMN transfer_review BIGINT NOT NULL DEFAULT 0 CHECK (transfer_review IN (0, 1));

-- Transfers a tenant sent: one at a time a volunteer.
CREATE TABLE transfers_out (
    tenant_code  TEXT NOT NULL,
    id           TEXT NOT NULL,
    volunteer_id TEXT NOT NULL,
    destination  TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('sending', 'completed', 'refused')),
    consent      TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    completed_at BIGINT,
    receipt      TEXT,
    refusal      TEXT,
    PRIMARY KEY (tenant_code, id),
    FOREIGN KEY (tenant_code, volunteer_id) REFERENCES volunteers (tenant_code, id)
);
CREATE UNIQUE INDEX transfers_out_one_at_a_time ON transfers_out (tenant_code, volunteer_id)
    WHERE status = 'sending';

-- Transfers a tenant received: the credentials with their logs' evidence (no personal data),
-- once per registration credential, whatever message carried them.
CREATE TABLE transfers_in (
    tenant_code      TEXT NOT NULL,
    origin           TEXT NOT NULL,
    id               TEXT NOT NULL,
    volunteer_id     TEXT NOT NULL,
    registration     TEXT NOT NULL,
    bundle           TEXT NOT NULL,
    records          BIGINT NOT NULL CHECK (records >= 0),
    minutes          BIGINT NOT NULL CHECK (minutes >= 0),
    received_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant_code, origin, id),
    UNIQUE (tenant_code, registration),
    FOREIGN KEY (tenant_code, volunteer_id) REFERENCES volunteers (tenant_code, id)
);
CREATE INDEX transfers_in_of_volunteer ON transfers_in (tenant_code, volunteer_id);

-- The peers' tenants' DID documents, as the node last fetched and checked them against the
-- operator keys it trusts: the keys of signed requests and of the credentials they carry. Kept
-- in the node's realm.
CREATE TABLE peer_documents (
    tenant_code TEXT NOT NULL REFERENCES tenants (code),
    did         TEXT NOT NULL,
    peer_url    TEXT NOT NULL,
    document    TEXT NOT NULL,
    fetched_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_code, did)
);
