-- A volunteer's transfer between tenants, of this node or another (R3): their registration and
-- hours go with them. The source freezes the volunteer from the request on (`transferring`:
-- read-only, no longer counted among the verified), sends the transfer through the outbox, and
-- marks them `transferred`, pointing at the destination, when the destination's receipt comes;
-- a refusal makes them verified again. The destination keeps what it received, with where it
-- came from, and counts the hours it carried once.

ALTER TABLE volunteers DROP CONSTRAINT volunteers_status_check;
ALTER TABLE volunteers ADD CONSTRAINT volunteers_status_check
    CHECK (status IN ('pending', 'verified', 'rejected', 'voided', 'transferring', 'transferred'));
-- The destination tenant's DID, once transferred.
ALTER TABLE volunteers ADD COLUMN transferred_to TEXT;

-- Whether the office reviews each volunteer who arrives (the tenant file's `transfers.review`),
-- rather than taking them as verified on the strength of the source's signed registration.
ALTER TABLE tenants ADD COLUMN transfer_review BIGINT NOT NULL DEFAULT 0 CHECK (transfer_review IN (0, 1));

-- Transfers a tenant sent: one at a time a volunteer.
CREATE TABLE transfers_out (
    tenant_code  TEXT COLLATE "C" NOT NULL,
    id           TEXT COLLATE "C" NOT NULL,
    volunteer_id TEXT COLLATE "C" NOT NULL,
    destination  TEXT COLLATE "C" NOT NULL,
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
    tenant_code      TEXT COLLATE "C" NOT NULL,
    origin           TEXT COLLATE "C" NOT NULL,
    id               TEXT COLLATE "C" NOT NULL,
    volunteer_id     TEXT COLLATE "C" NOT NULL,
    registration     TEXT COLLATE "C" NOT NULL,
    bundle           TEXT NOT NULL,
    records          BIGINT NOT NULL CHECK (records >= 0),
    minutes          BIGINT NOT NULL CHECK (minutes >= 0),
    received_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant_code, origin, id),
    UNIQUE (tenant_code, registration),
    FOREIGN KEY (tenant_code, volunteer_id) REFERENCES volunteers (tenant_code, id)
);
CREATE INDEX transfers_in_of_volunteer ON transfers_in (tenant_code, volunteer_id);
-- A bundle is signed JSON, megabytes for a long record, read back whole: kept out of line
-- without compression, which costs more time than the space it saves.
ALTER TABLE transfers_in ALTER COLUMN bundle SET STORAGE EXTERNAL;

-- The peers' tenants' DID documents, as the node last fetched and checked them against the
-- operator keys it trusts: the keys of signed requests and of the credentials they carry. Kept
-- in the node's realm.
CREATE TABLE peer_documents (
    tenant_code TEXT COLLATE "C" NOT NULL REFERENCES tenants (code),
    did         TEXT COLLATE "C" NOT NULL,
    peer_url    TEXT NOT NULL,
    document    TEXT NOT NULL,
    fetched_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_code, did)
);
