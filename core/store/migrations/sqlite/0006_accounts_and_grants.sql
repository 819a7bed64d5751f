-- One account per person, holding grants; every table of tenant data keyed by its tenant.
--
-- Accounts of the node itself (operators, node-wide auditors) belong to the reserved realm
-- 'node', a row of tenants that is never listed as a tenant: every account, session, grant
-- and audit event then has a tenant_code, and no key needs a NULL.
--
-- SQLite changes keys and constraints by building a table anew, which needs foreign keys off;
-- they can only be turned off outside a transaction, so the store runs this migration itself
-- (migrations.rs): foreign keys off, one transaction, every foreign key checked before commit.

INSERT INTO tenants (code, name_zh, name_en, created_at, created_by)
VALUES ('node', '本节点', 'this node', 0, 'system:migration');

CREATE TABLE accounts (
    tenant_code   TEXT NOT NULL REFERENCES tenants (code),
    id            TEXT NOT NULL,
    username      TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    created_by    TEXT NOT NULL,
    PRIMARY KEY (tenant_code, id),
    UNIQUE (tenant_code, username)
);
INSERT INTO accounts (tenant_code, id, username, display_name, password_hash, created_at, created_by)
SELECT COALESCE(tenant_code, 'node'), id, username, display_name, password_hash, created_at, created_by
FROM users;

CREATE TABLE grants (
    tenant_code TEXT NOT NULL,
    account_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    scope       TEXT NOT NULL,
    granted_at  BIGINT NOT NULL,
    granted_by  TEXT NOT NULL,
    PRIMARY KEY (tenant_code, account_id, kind, scope),
    FOREIGN KEY (tenant_code, account_id) REFERENCES accounts (tenant_code, id)
);
CREATE INDEX grants_scope ON grants (tenant_code, kind, scope);

INSERT INTO grants (tenant_code, account_id, kind, scope, granted_at, granted_by)
SELECT COALESCE(tenant_code, 'node'), id, role,
       CASE role WHEN 'operator' THEN 'node'
                 WHEN 'reviewer' THEN 'reviewing_body:' || reviewing_body_id
                 ELSE 'tenant' END,
       created_at, created_by
FROM users WHERE role IN ('operator', 'auditor', 'office_admin', 'reviewer');
INSERT OR IGNORE INTO grants (tenant_code, account_id, kind, scope, granted_at, granted_by)
SELECT tenant_code, user_id, 'team_admin', 'team:' || team_id, appointed_at, appointed_by
FROM team_admins;
DROP TABLE team_admins;

CREATE TABLE sessions_new (
    tenant_code TEXT NOT NULL,
    token_hash  TEXT NOT NULL,
    account_id  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_code, token_hash),
    FOREIGN KEY (tenant_code, account_id) REFERENCES accounts (tenant_code, id)
);
INSERT INTO sessions_new (tenant_code, token_hash, account_id, created_at, expires_at)
SELECT COALESCE(users.tenant_code, 'node'), sessions.token_hash, sessions.user_id,
       sessions.created_at, sessions.expires_at
FROM sessions JOIN users ON users.id = sessions.user_id;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_token ON sessions (token_hash);
CREATE INDEX sessions_account ON sessions (tenant_code, account_id, expires_at);

DROP TABLE login_failures;
CREATE TABLE throttle (
    key          TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    n            BIGINT NOT NULL
);

-- Volunteers: the account by tenant; no birth date in the clear (the sealed number carries it);
-- one verified registration per document, while applications that are not verified block no
-- one; an office may void a registration.
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
    status             TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'rejected', 'voided')),
    decision_reason    TEXT,
    applied_at         BIGINT NOT NULL,
    decided_at         BIGINT,
    decided_by         TEXT,
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
    decided_at, decided_by)
SELECT tenant_code, id, user_id, volunteer_number, card_serial, name, id_kind, id_number_sealed,
    id_number_index,
    substr('********************************', 1, length(id_number_masked) - 2) || substr(id_number_masked, -2),
    gender, mobile, region_code, unit_id, skills, service_categories, availability, status,
    decision_reason, applied_at, decided_at, decided_by
FROM volunteers;
DROP TABLE volunteers;
ALTER TABLE volunteers_new RENAME TO volunteers;
CREATE INDEX volunteers_status ON volunteers (tenant_code, status, applied_at);
CREATE INDEX volunteers_unit ON volunteers (tenant_code, unit_id, status, region_code);
CREATE UNIQUE INDEX volunteers_one_registration ON volunteers (tenant_code, id_number_index)
WHERE status = 'verified';
CREATE INDEX volunteers_document ON volunteers (tenant_code, id_number_index);

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

DROP TABLE users;

-- Teams: associations by their name in the glossary; who applied.
ALTER TABLE teams RENAME COLUMN federation TO association;
ALTER TABLE teams ADD COLUMN applicant_id TEXT;
UPDATE reviewing_bodies SET kind = 'association' WHERE kind = 'federation';

-- The audit trail: every event of a tenant (or of the node) numbered and chained by hashes,
-- which the node fills in for events written before the chain existed.
CREATE TABLE audit_events_new (
    tenant_code      TEXT NOT NULL REFERENCES tenants (code),
    seq              BIGINT NOT NULL,
    id               TEXT NOT NULL,
    actor_account_id TEXT,
    actor_name       TEXT NOT NULL,
    action           TEXT NOT NULL,
    entity_kind      TEXT NOT NULL,
    entity_id        TEXT NOT NULL,
    before_json      TEXT,
    after_json       TEXT,
    at               BIGINT NOT NULL,
    reason           TEXT,
    hash             TEXT,
    PRIMARY KEY (tenant_code, seq),
    UNIQUE (tenant_code, id)
);
INSERT INTO audit_events_new (tenant_code, seq, id, actor_account_id, actor_name, action,
    entity_kind, entity_id, before_json, after_json, at, reason)
SELECT COALESCE(tenant_code, 'node'),
    ROW_NUMBER() OVER (PARTITION BY COALESCE(tenant_code, 'node') ORDER BY at, id),
    id, actor_id, actor_name,
    CASE action WHEN 'user.create' THEN 'account.create'
                WHEN 'user.set_password' THEN 'account.set_password' ELSE action END,
    CASE entity_kind WHEN 'user' THEN 'account' ELSE entity_kind END,
    entity_id,
    CASE WHEN entity_kind = 'volunteer' AND before_json IS NOT NULL THEN
        json_remove(CASE WHEN json_extract(before_json, '$.id_number_masked') IS NOT NULL
            THEN json_set(before_json, '$.id_number_masked',
                substr('********************************', 1, length(json_extract(before_json, '$.id_number_masked')) - 2)
                || substr(json_extract(before_json, '$.id_number_masked'), -2))
            ELSE before_json END, '$.birth_date')
        ELSE before_json END,
    CASE WHEN entity_kind = 'volunteer' AND after_json IS NOT NULL THEN
        json_remove(CASE WHEN json_extract(after_json, '$.id_number_masked') IS NOT NULL
            THEN json_set(after_json, '$.id_number_masked',
                substr('********************************', 1, length(json_extract(after_json, '$.id_number_masked')) - 2)
                || substr(json_extract(after_json, '$.id_number_masked'), -2))
            ELSE after_json END, '$.birth_date')
        ELSE after_json END,
    at, reason
FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_new RENAME TO audit_events;

-- The head of each trail: its last number and hash. Updating it takes the trail's lock, so a
-- tenant's events are numbered and chained one after another.
CREATE TABLE audit_heads (
    tenant_code TEXT PRIMARY KEY REFERENCES tenants (code),
    seq         BIGINT NOT NULL,
    hash        TEXT NOT NULL
);
