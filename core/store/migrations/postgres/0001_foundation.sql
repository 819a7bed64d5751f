-- Tenants, their regions, units and reviewing bodies; accounts, sessions, login failures; the
-- audit trail. Every tenant-owned row carries tenant_code and is keyed by it, so that no lookup by
-- id can reach another tenant's row.
-- Instants are Unix milliseconds (UTC); ids are UUIDv7 text; flags are 0/1 bigints, so that the
-- same statements read the same columns on SQLite and PostgreSQL. Keys and codes compare byte
-- by byte (COLLATE "C"): locale-aware comparison of ids and digits costs much and buys nothing.

CREATE TABLE tenants (
    code        TEXT COLLATE "C" PRIMARY KEY,
    name_zh     TEXT NOT NULL,
    name_en     TEXT,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL
);

CREATE TABLE regions (
    tenant_code         TEXT COLLATE "C" NOT NULL REFERENCES tenants (code),
    code                TEXT COLLATE "C" NOT NULL,
    parent_code         TEXT COLLATE "C",
    name_zh             TEXT NOT NULL,
    name_en             TEXT,
    level               TEXT NOT NULL CHECK (level IN ('city', 'county', 'zone')),
    local               BIGINT NOT NULL CHECK (local IN (0, 1)),
    resident_population BIGINT NOT NULL CHECK (resident_population > 0),
    position            BIGINT NOT NULL,
    PRIMARY KEY (tenant_code, code),
    FOREIGN KEY (tenant_code, parent_code) REFERENCES regions (tenant_code, code)
);

CREATE TABLE units (
    tenant_code        TEXT COLLATE "C" NOT NULL REFERENCES tenants (code),
    id                 TEXT COLLATE "C" NOT NULL,
    name_zh            TEXT NOT NULL,
    name_en            TEXT,
    region_code        TEXT COLLATE "C" NOT NULL,
    kind               TEXT NOT NULL,
    civilisation_level TEXT NOT NULL,
    staff              BIGINT NOT NULL CHECK (staff > 0),
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    PRIMARY KEY (tenant_code, id),
    UNIQUE (tenant_code, name_zh),
    FOREIGN KEY (tenant_code, region_code) REFERENCES regions (tenant_code, code)
);

CREATE TABLE reviewing_bodies (
    tenant_code TEXT COLLATE "C" NOT NULL REFERENCES tenants (code),
    id          TEXT COLLATE "C" NOT NULL,
    kind        TEXT NOT NULL,
    name_zh     TEXT NOT NULL,
    name_en     TEXT,
    region_code TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_code, id),
    UNIQUE (tenant_code, name_zh),
    FOREIGN KEY (tenant_code, region_code) REFERENCES regions (tenant_code, code)
);

-- tenant_code is NULL for node-wide accounts (operators) only.
CREATE TABLE users (
    id                TEXT COLLATE "C" PRIMARY KEY,
    tenant_code       TEXT COLLATE "C" REFERENCES tenants (code),
    username          TEXT NOT NULL,
    display_name      TEXT NOT NULL,
    role              TEXT NOT NULL,
    reviewing_body_id TEXT COLLATE "C",
    password_hash     TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    created_by        TEXT NOT NULL,
    UNIQUE (tenant_code, username),
    FOREIGN KEY (tenant_code, reviewing_body_id) REFERENCES reviewing_bodies (tenant_code, id),
    CHECK ((role = 'operator') = (tenant_code IS NULL)),
    CHECK ((role = 'reviewer') = (reviewing_body_id IS NOT NULL))
);
CREATE UNIQUE INDEX users_username_key ON users (username) WHERE tenant_code IS NULL;

CREATE TABLE sessions (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE login_failures (
    id          TEXT PRIMARY KEY,
    account_key TEXT NOT NULL,
    address     TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX login_failures_account ON login_failures (account_key, at);
CREATE INDEX login_failures_address ON login_failures (address, at);

CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    tenant_code TEXT REFERENCES tenants (code),
    actor_id    TEXT,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity_kind TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    at          BIGINT NOT NULL
);
CREATE INDEX audit_events_tenant ON audit_events (tenant_code, at);
