-- One account per person, holding grants; every table of tenant data keyed by its tenant, so
-- that the schema can be distributed on tenant_code (Citus) as it is.
--
-- Accounts of the node itself (operators, node-wide auditors) belong to the reserved realm
-- 'node', a row of tenants that is never listed as a tenant: every account, session, grant
-- and audit event then has a tenant_code, and no key needs a NULL.

INSERT INTO tenants (code, name_zh, name_en, created_at, created_by)
VALUES ('node', '本节点', 'this node', 0, 'system:migration');

-- Accounts (were users): keyed by tenant; roles become grants.
ALTER TABLE users RENAME TO accounts;
ALTER TABLE sessions DROP CONSTRAINT sessions_user_id_fkey;
ALTER TABLE volunteers DROP CONSTRAINT volunteers_user_id_fkey;
ALTER TABLE team_admins DROP CONSTRAINT team_admins_user_id_fkey;
ALTER TABLE accounts DROP CONSTRAINT users_check;
ALTER TABLE accounts DROP CONSTRAINT users_check1;
UPDATE accounts SET tenant_code = 'node' WHERE tenant_code IS NULL;
ALTER TABLE accounts ALTER COLUMN tenant_code SET NOT NULL;
ALTER TABLE accounts DROP CONSTRAINT users_pkey;
ALTER TABLE accounts ADD PRIMARY KEY (tenant_code, id);
ALTER TABLE accounts RENAME CONSTRAINT users_tenant_code_username_key TO accounts_tenant_code_username_key;
ALTER TABLE accounts RENAME CONSTRAINT users_tenant_code_fkey TO accounts_tenant_code_fkey;
DROP INDEX users_username_key;

CREATE TABLE grants (
    tenant_code TEXT COLLATE "C" NOT NULL,
    account_id  TEXT COLLATE "C" NOT NULL,
    kind        TEXT COLLATE "C" NOT NULL,
    scope       TEXT COLLATE "C" NOT NULL,
    granted_at  BIGINT NOT NULL,
    granted_by  TEXT NOT NULL,
    PRIMARY KEY (tenant_code, account_id, kind, scope),
    FOREIGN KEY (tenant_code, account_id) REFERENCES accounts (tenant_code, id)
);
CREATE INDEX grants_scope ON grants (tenant_code, kind, scope);

INSERT INTO grants (tenant_code, account_id, kind, scope, granted_at, granted_by)
SELECT tenant_code, id, role,
       CASE role WHEN 'operator' THEN 'node'
                 WHEN 'reviewer' THEN 'reviewing_body:' || reviewing_body_id
                 ELSE 'tenant' END,
       created_at, created_by
FROM accounts WHERE role IN ('operator', 'auditor', 'office_admin', 'reviewer');
INSERT INTO grants (tenant_code, account_id, kind, scope, granted_at, granted_by)
SELECT tenant_code, user_id, 'team_admin', 'team:' || team_id, appointed_at, appointed_by
FROM team_admins
ON CONFLICT DO NOTHING;
DROP TABLE team_admins;

ALTER TABLE accounts DROP CONSTRAINT users_tenant_code_reviewing_body_id_fkey;
ALTER TABLE accounts DROP COLUMN role;
ALTER TABLE accounts DROP COLUMN reviewing_body_id;

-- Sessions: keyed by tenant too; looked up by the hash of their token.
ALTER TABLE sessions ADD COLUMN tenant_code TEXT COLLATE "C";
ALTER TABLE sessions RENAME COLUMN user_id TO account_id;
UPDATE sessions SET tenant_code = accounts.tenant_code FROM accounts WHERE accounts.id = sessions.account_id;
ALTER TABLE sessions ALTER COLUMN tenant_code SET NOT NULL;
ALTER TABLE sessions DROP CONSTRAINT sessions_pkey;
ALTER TABLE sessions ADD PRIMARY KEY (tenant_code, token_hash);
ALTER TABLE sessions ADD FOREIGN KEY (tenant_code, account_id) REFERENCES accounts (tenant_code, id);
DROP INDEX sessions_user_id;
CREATE INDEX sessions_token ON sessions (token_hash);
CREATE INDEX sessions_account ON sessions (tenant_code, account_id, expires_at);

-- Throttles (sign-in, registration, uploads): one counter a key and window, counted and read
-- in one statement.
DROP TABLE login_failures;
CREATE TABLE throttle (
    key          TEXT COLLATE "C" PRIMARY KEY,
    window_start BIGINT NOT NULL,
    n            BIGINT NOT NULL
);

-- Volunteers: the account by tenant; no birth date in the clear (the sealed number carries it);
-- one verified registration per document, while applications that are not verified block no
-- one; an office may void a registration.
ALTER TABLE volunteers RENAME COLUMN user_id TO account_id;
ALTER TABLE volunteers DROP CONSTRAINT volunteers_user_id_key;
ALTER TABLE volunteers ADD CONSTRAINT volunteers_tenant_code_account_id_key UNIQUE (tenant_code, account_id);
ALTER TABLE volunteers ADD FOREIGN KEY (tenant_code, account_id) REFERENCES accounts (tenant_code, id);
ALTER TABLE volunteers DROP CONSTRAINT volunteers_volunteer_number_key;
ALTER TABLE volunteers ADD CONSTRAINT volunteers_tenant_code_volunteer_number_key UNIQUE (tenant_code, volunteer_number);
ALTER TABLE volunteers DROP CONSTRAINT volunteers_tenant_code_id_number_index_key;
CREATE UNIQUE INDEX volunteers_one_registration ON volunteers (tenant_code, id_number_index) WHERE status = 'verified';
CREATE INDEX volunteers_document ON volunteers (tenant_code, id_number_index);
ALTER TABLE volunteers DROP CONSTRAINT volunteers_status_check;
ALTER TABLE volunteers ADD CONSTRAINT volunteers_status_check CHECK (status IN ('pending', 'verified', 'rejected', 'voided'));
ALTER TABLE volunteers DROP COLUMN birth_date;
UPDATE volunteers SET id_number_masked = repeat('*', length(id_number_masked) - 2) || right(id_number_masked, 2);

-- Teams: associations by their name in the glossary; who applied.
ALTER TABLE teams RENAME COLUMN federation TO association;
ALTER TABLE teams ADD COLUMN applicant_id TEXT COLLATE "C";
UPDATE reviewing_bodies SET kind = 'association' WHERE kind = 'federation';

-- The audit trail: every event of a tenant (or of the node) numbered and chained by hashes,
-- which the node fills in for events written before the chain existed.
UPDATE audit_events SET tenant_code = 'node' WHERE tenant_code IS NULL;
ALTER TABLE audit_events ALTER COLUMN tenant_code SET NOT NULL;
ALTER TABLE audit_events RENAME COLUMN actor_id TO actor_account_id;
ALTER TABLE audit_events ADD COLUMN seq BIGINT;
ALTER TABLE audit_events ADD COLUMN hash TEXT;
UPDATE audit_events SET seq = numbered.seq
FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY tenant_code ORDER BY at, id) AS seq FROM audit_events) numbered
WHERE numbered.id = audit_events.id;
ALTER TABLE audit_events ALTER COLUMN seq SET NOT NULL;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_pkey;
ALTER TABLE audit_events ADD PRIMARY KEY (tenant_code, seq);
ALTER TABLE audit_events ADD CONSTRAINT audit_events_tenant_code_id_key UNIQUE (tenant_code, id);
DROP INDEX audit_events_tenant;
UPDATE audit_events SET
    before_json = CASE WHEN before_json IS NULL THEN NULL ELSE (before_json::jsonb - 'birth_date')::text END,
    after_json = CASE WHEN after_json IS NULL THEN NULL ELSE (after_json::jsonb - 'birth_date')::text END
WHERE entity_kind = 'volunteer';
UPDATE audit_events SET before_json = jsonb_set(before_json::jsonb, '{id_number_masked}',
    to_jsonb(repeat('*', length(before_json::jsonb->>'id_number_masked') - 2) || right(before_json::jsonb->>'id_number_masked', 2)))::text
WHERE entity_kind = 'volunteer' AND before_json::jsonb ? 'id_number_masked';
UPDATE audit_events SET after_json = jsonb_set(after_json::jsonb, '{id_number_masked}',
    to_jsonb(repeat('*', length(after_json::jsonb->>'id_number_masked') - 2) || right(after_json::jsonb->>'id_number_masked', 2)))::text
WHERE entity_kind = 'volunteer' AND after_json::jsonb ? 'id_number_masked';
UPDATE audit_events SET action = 'account.create', entity_kind = 'account' WHERE action = 'user.create';
UPDATE audit_events SET action = 'account.set_password', entity_kind = 'account' WHERE action = 'user.set_password';

-- The head of each trail: its last number and hash. Updating it takes the trail's lock, so a
-- tenant's events are numbered and chained one after another.
CREATE TABLE audit_heads (
    tenant_code TEXT COLLATE "C" PRIMARY KEY REFERENCES tenants (code),
    seq         BIGINT NOT NULL,
    hash        TEXT NOT NULL
);
