-- Rows of a bulk import on their way in. The import writes them here with COPY, from a
-- connection of its own (COPY is PostgreSQL's fastest way in, and the node's pooled
-- connections cannot speak it), then moves them into volunteers inside the import's
-- transaction, so that the rows and the import's audit event still commit together. Unlogged:
-- after a crash the table is empty, which is what an import that never finished leaves.
CREATE UNLOGGED TABLE volunteer_import_rows (
    tenant_code        TEXT COLLATE "C" NOT NULL REFERENCES tenants (code),
    import_id          TEXT COLLATE "C" NOT NULL,
    id                 TEXT COLLATE "C" NOT NULL,
    name               TEXT NOT NULL,
    id_kind            TEXT NOT NULL,
    id_number_sealed   BYTEA NOT NULL,
    id_number_index    TEXT COLLATE "C" NOT NULL,
    id_number_masked   TEXT NOT NULL,
    gender             TEXT,
    mobile             TEXT NOT NULL,
    region_code        TEXT COLLATE "C" NOT NULL,
    unit_id            TEXT COLLATE "C",
    skills             TEXT NOT NULL,
    service_categories TEXT NOT NULL,
    availability       TEXT,
    status             TEXT COLLATE "C" NOT NULL,
    applied_at         BIGINT NOT NULL,
    staged_at          BIGINT NOT NULL,
    PRIMARY KEY (tenant_code, import_id, id)
);
