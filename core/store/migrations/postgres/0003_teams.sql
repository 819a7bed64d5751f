-- Teams (R5, R10-R12): applications, their liaison team or registration authority, review,
-- admins and members. Certificate images are stored once per tenant by their SHA-256.

CREATE TABLE files (
    tenant_code TEXT COLLATE "C" NOT NULL REFERENCES tenants (code),
    sha256      TEXT COLLATE "C" NOT NULL,
    media_type  TEXT NOT NULL,
    size        BIGINT NOT NULL,
    content     BYTEA NOT NULL,
    uploaded_at BIGINT NOT NULL,
    uploaded_by TEXT NOT NULL,
    PRIMARY KEY (tenant_code, sha256)
);

CREATE TABLE teams (
    tenant_code               TEXT COLLATE "C" NOT NULL REFERENCES tenants (code),
    id                        TEXT COLLATE "C" NOT NULL,
    name                      TEXT NOT NULL,
    kind                      TEXT NOT NULL,
    federation                BIGINT NOT NULL CHECK (federation IN (0, 1)),
    unit_id                   TEXT COLLATE "C",
    region_code               TEXT COLLATE "C" NOT NULL,
    contact_name              TEXT NOT NULL,
    contact_mobile            TEXT NOT NULL,
    legal_status              TEXT NOT NULL CHECK (legal_status IN ('registered', 'unregistered')),
    parent_team_id            TEXT COLLATE "C",
    liaison_team_id           TEXT COLLATE "C",
    registration_authority_id TEXT COLLATE "C",
    credit_code               TEXT,
    org_code                  TEXT,
    reviewing_body_id         TEXT COLLATE "C",
    status                    TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    decision_reason           TEXT,
    submitted_at              BIGINT NOT NULL,
    decided_at                BIGINT,
    decided_by                TEXT,
    PRIMARY KEY (tenant_code, id),
    UNIQUE (tenant_code, name),
    FOREIGN KEY (tenant_code, region_code) REFERENCES regions (tenant_code, code),
    FOREIGN KEY (tenant_code, unit_id) REFERENCES units (tenant_code, id),
    FOREIGN KEY (tenant_code, parent_team_id) REFERENCES teams (tenant_code, id),
    FOREIGN KEY (tenant_code, liaison_team_id) REFERENCES teams (tenant_code, id),
    FOREIGN KEY (tenant_code, registration_authority_id) REFERENCES reviewing_bodies (tenant_code, id),
    FOREIGN KEY (tenant_code, reviewing_body_id) REFERENCES reviewing_bodies (tenant_code, id)
);
-- A federation of the tenant's configuration is also a team (the liaison team of unregistered
-- teams in its region), under the same id; reviewing_body_id links the two.
INSERT INTO teams (tenant_code, id, name, kind, federation, region_code, contact_name,
                   contact_mobile, legal_status, reviewing_body_id, status, submitted_at, decided_at,
                   decided_by)
SELECT tenant_code, id, name_zh, 'social_organisation', 1, region_code, name_zh, '', 'registered', id,
       'approved', 0, 0, 'system:migration'
FROM reviewing_bodies WHERE kind = 'federation';

CREATE INDEX teams_review ON teams (tenant_code, status, liaison_team_id, registration_authority_id);

CREATE TABLE team_certificates (
    tenant_code TEXT COLLATE "C" NOT NULL,
    team_id     TEXT COLLATE "C" NOT NULL,
    sha256      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_code, team_id, sha256),
    FOREIGN KEY (tenant_code, team_id) REFERENCES teams (tenant_code, id),
    FOREIGN KEY (tenant_code, sha256) REFERENCES files (tenant_code, sha256)
);

CREATE TABLE team_admins (
    tenant_code  TEXT COLLATE "C" NOT NULL,
    team_id      TEXT COLLATE "C" NOT NULL,
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    appointed_at BIGINT NOT NULL,
    appointed_by TEXT NOT NULL,
    PRIMARY KEY (tenant_code, team_id, user_id),
    FOREIGN KEY (tenant_code, team_id) REFERENCES teams (tenant_code, id)
);
CREATE INDEX team_admins_user ON team_admins (user_id);

CREATE TABLE team_members (
    tenant_code  TEXT COLLATE "C" NOT NULL,
    team_id      TEXT COLLATE "C" NOT NULL,
    volunteer_id TEXT COLLATE "C" NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('applied', 'member', 'rejected', 'removed', 'left')),
    applied_at   BIGINT NOT NULL,
    decided_at   BIGINT,
    decided_by   TEXT,
    PRIMARY KEY (tenant_code, team_id, volunteer_id),
    FOREIGN KEY (tenant_code, team_id) REFERENCES teams (tenant_code, id),
    FOREIGN KEY (tenant_code, volunteer_id) REFERENCES volunteers (tenant_code, id)
);
CREATE INDEX team_members_volunteer ON team_members (tenant_code, volunteer_id);
