-- Volunteers (R1, R9): real-name applications, verification, and the personal data they carry.
-- Identity numbers are never stored in the clear: id_number_sealed is XChaCha20-Poly1305 under
-- the tenant's data key, id_number_index an HMAC-SHA256 under its index key (one registration
-- per document per tenant), id_number_masked what people may see. The tenant of a volunteer
-- is held by the key to its region (a region row belongs to its tenant), one foreign-key
-- check per row fewer for imports of a whole city.

CREATE TABLE tenant_data_keys (
    tenant_code TEXT COLLATE "C" PRIMARY KEY REFERENCES tenants (code),
    key_check   TEXT NOT NULL
);

CREATE TABLE volunteers (
    tenant_code        TEXT COLLATE "C" NOT NULL,
    id                 TEXT COLLATE "C" NOT NULL,
    user_id            TEXT COLLATE "C" REFERENCES users (id),
    volunteer_number   TEXT COLLATE "C" UNIQUE,
    card_serial        BIGINT NOT NULL DEFAULT 0,
    name               TEXT NOT NULL,
    id_kind            TEXT NOT NULL,
    id_number_sealed   BYTEA NOT NULL,
    id_number_index    TEXT COLLATE "C" NOT NULL,
    id_number_masked   TEXT NOT NULL,
    birth_date         TEXT,
    gender             TEXT,
    mobile             TEXT NOT NULL,
    region_code        TEXT COLLATE "C" NOT NULL,
    unit_id            TEXT COLLATE "C",
    skills             TEXT NOT NULL,
    service_categories TEXT NOT NULL,
    availability       TEXT,
    status             TEXT COLLATE "C" NOT NULL CHECK (status IN ('pending', 'verified', 'rejected')),
    decision_reason    TEXT,
    applied_at         BIGINT NOT NULL,
    decided_at         BIGINT,
    decided_by         TEXT,
    PRIMARY KEY (tenant_code, id),
    UNIQUE (tenant_code, id_number_index),
    UNIQUE (user_id),
    FOREIGN KEY (tenant_code, region_code) REFERENCES regions (tenant_code, code),
    FOREIGN KEY (tenant_code, unit_id) REFERENCES units (tenant_code, id)
);
CREATE INDEX volunteers_status ON volunteers (tenant_code, status, applied_at);
-- A unit's volunteers, and the counts of the registration report, read from the index alone.
CREATE INDEX volunteers_unit ON volunteers (tenant_code, unit_id, status, region_code);

ALTER TABLE audit_events ADD COLUMN reason TEXT;
