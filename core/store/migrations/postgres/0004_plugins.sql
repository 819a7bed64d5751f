-- Policy plugins (R12, R16, R17): packages a tenant stored, by SHA-256; numbered revisions of the
-- tenant's bindings of hooks to them, one of which is active; hooks switched off at a revision.

CREATE TABLE plugin_packages (
    tenant_code TEXT COLLATE "C" NOT NULL REFERENCES tenants (code),
    sha256      TEXT COLLATE "C" NOT NULL,
    name        TEXT NOT NULL,
    version     TEXT NOT NULL,
    wit_version TEXT NOT NULL,
    hooks       TEXT NOT NULL,
    size        BIGINT NOT NULL,
    content     BYTEA NOT NULL,
    signed_by   TEXT,
    signature   TEXT,
    uploaded_at BIGINT NOT NULL,
    uploaded_by TEXT NOT NULL,
    PRIMARY KEY (tenant_code, sha256)
);

CREATE TABLE policy_revisions (
    tenant_code TEXT COLLATE "C" NOT NULL REFERENCES tenants (code),
    revision    BIGINT NOT NULL CHECK (revision > 0),
    bindings    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    PRIMARY KEY (tenant_code, revision)
);

CREATE TABLE policy_active (
    tenant_code TEXT COLLATE "C" PRIMARY KEY REFERENCES tenants (code),
    revision    BIGINT NOT NULL,
    changed_at  BIGINT NOT NULL,
    FOREIGN KEY (tenant_code, revision) REFERENCES policy_revisions (tenant_code, revision)
);

CREATE TABLE policy_switch_offs (
    tenant_code TEXT COLLATE "C" NOT NULL,
    revision    BIGINT NOT NULL,
    hook        TEXT COLLATE "C" NOT NULL,
    reason      TEXT NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (tenant_code, revision, hook),
    FOREIGN KEY (tenant_code, revision) REFERENCES policy_revisions (tenant_code, revision)
);
