-- Time on the ground (R2, R15, R19): printed cards, scans, attendances, the append-only service
-- records with their totals, disputes, notices, star levels and certificates.
--
-- Scans and the service records they make are their own trail: each names who scanned or who
-- recorded, and no row of either is ever changed. A check-in storm therefore writes no audit
-- event per scan and takes no lock of the tenant's audit trail; what people decide (a manual
-- entry, a correction, a dispute, a certificate) is audited as every other change is.

-- The star level a volunteer has reached (0 for none), kept with the total it was set from.
ALTER TABLE volunteers ADD COLUMN star_level BIGINT NOT NULL DEFAULT 0 CHECK (star_level BETWEEN 0 AND 5);

-- Printed cards, for volunteers without phones: a long-lived credential, revoked by its serial
-- when the card is lost.
CREATE TABLE card_credentials (
    tenant_code       TEXT NOT NULL,
    serial            BIGINT NOT NULL,
    volunteer_id      TEXT NOT NULL,
    issued_at         BIGINT NOT NULL,
    issued_by         TEXT NOT NULL,
    revoked_at        BIGINT,
    revoked_by        TEXT,
    revocation_reason TEXT,
    PRIMARY KEY (tenant_code, serial),
    FOREIGN KEY (tenant_code, volunteer_id) REFERENCES volunteers (tenant_code, id)
);
CREATE INDEX card_credentials_of_volunteer ON card_credentials (tenant_code, volunteer_id);

-- A volunteer's presence at a shift: checked in, then out. What it earns is a service record.
CREATE TABLE attendances (
    tenant_code     TEXT NOT NULL,
    id              TEXT NOT NULL,
    shift_id        TEXT NOT NULL,
    project_id      TEXT NOT NULL,
    volunteer_id    TEXT NOT NULL,
    checked_in_at   BIGINT NOT NULL,
    checked_out_at  BIGINT,
    card            TEXT NOT NULL CHECK (card IN ('app', 'printed')),
    card_serial     BIGINT,
    -- NULL while checked in; then whether the time counted, and why not.
    outcome         TEXT CHECK (outcome IN ('credited', 'not_credited')),
    note            TEXT,
    PRIMARY KEY (tenant_code, id),
    UNIQUE (tenant_code, shift_id, volunteer_id),
    FOREIGN KEY (tenant_code, shift_id) REFERENCES shifts (tenant_code, id),
    FOREIGN KEY (tenant_code, volunteer_id) REFERENCES volunteers (tenant_code, id)
);
CREATE INDEX attendances_open ON attendances (tenant_code, outcome, checked_in_at);
CREATE INDEX attendances_of_project ON attendances (tenant_code, project_id, checked_in_at);

-- Every scan that counted, by the id its device gave it, so that an upload made twice counts
-- once. A code of the app scans once: its token id is unique among the volunteer's.
CREATE TABLE scans (
    tenant_code   TEXT NOT NULL,
    id            TEXT NOT NULL,
    project_id    TEXT NOT NULL,
    attendance_id TEXT NOT NULL,
    volunteer_id  TEXT NOT NULL,
    direction     TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    token_id      TEXT,
    scanned_at    BIGINT NOT NULL,
    received_at   BIGINT NOT NULL,
    scanned_by    TEXT NOT NULL,
    offline       BIGINT NOT NULL CHECK (offline IN (0, 1)),
    PRIMARY KEY (tenant_code, id),
    FOREIGN KEY (tenant_code, attendance_id) REFERENCES attendances (tenant_code, id)
);
CREATE UNIQUE INDEX scans_token_once ON scans (tenant_code, volunteer_id, token_id) WHERE token_id IS NOT NULL;

-- Service records: appended, never changed. A correction is a new entry pointing at the one it
-- replaces (at most one each), so the entries in force are those nothing points at.
CREATE TABLE service_records (
    tenant_code      TEXT NOT NULL,
    id               TEXT NOT NULL,
    volunteer_id     TEXT NOT NULL,
    team_id          TEXT NOT NULL,
    project_id       TEXT,
    shift_id         TEXT,
    region_code      TEXT NOT NULL,
    started_at       BIGINT NOT NULL,
    ended_at         BIGINT NOT NULL,
    minutes          BIGINT NOT NULL CHECK (minutes >= 0),
    content          TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('scan', 'missing_check_out', 'manual', 'correction', 'settlement')),
    card             TEXT CHECK (card IN ('app', 'printed')),
    card_serial      BIGINT,
    corrects         TEXT,
    reason           TEXT,
    recorded_at      BIGINT NOT NULL,
    recorded_by      TEXT NOT NULL,
    recorded_by_name TEXT NOT NULL,
    PRIMARY KEY (tenant_code, id),
    UNIQUE (tenant_code, corrects),
    CHECK (ended_at > started_at),
    FOREIGN KEY (tenant_code, volunteer_id) REFERENCES volunteers (tenant_code, id),
    FOREIGN KEY (tenant_code, team_id) REFERENCES teams (tenant_code, id),
    FOREIGN KEY (tenant_code, corrects) REFERENCES service_records (tenant_code, id)
);
CREATE INDEX service_records_of_volunteer ON service_records (tenant_code, volunteer_id, started_at);
CREATE INDEX service_records_of_team ON service_records (tenant_code, team_id, started_at);
CREATE TRIGGER service_records_append_only_update BEFORE UPDATE ON service_records
BEGIN
    SELECT RAISE(ABORT, 'service records are append-only: correct an entry with a new one');
END;
CREATE TRIGGER service_records_append_only_delete BEFORE DELETE ON service_records
BEGIN
    SELECT RAISE(ABORT, 'service records are append-only: correct an entry with a new one');
END;

-- Minutes and entries in force per volunteer, team, project and region, kept by the
-- transaction that writes an entry. Teams, projects and regions are counted in 64 slots
-- (by volunteer) and summed when read, so that a check-in storm's writers do not queue on one
-- row.
CREATE TABLE service_totals (
    tenant_code TEXT NOT NULL,
    scope       TEXT NOT NULL CHECK (scope IN ('volunteer', 'team', 'project', 'region')),
    scope_id    TEXT NOT NULL,
    slot        BIGINT NOT NULL,
    minutes     BIGINT NOT NULL,
    entries     BIGINT NOT NULL,
    PRIMARY KEY (tenant_code, scope, scope_id, slot)
);

-- A volunteer's dispute of an entry: the team answers, the office settles.
CREATE TABLE disputes (
    tenant_code     TEXT NOT NULL,
    id              TEXT NOT NULL,
    record_id       TEXT NOT NULL,
    volunteer_id    TEXT NOT NULL,
    team_id         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('open', 'answered', 'upheld', 'dismissed')),
    claim           TEXT NOT NULL,
    claimed_minutes BIGINT,
    answer          TEXT,
    answered_by     TEXT,
    answered_at     BIGINT,
    settlement      TEXT,
    settled_by      TEXT,
    settled_at      BIGINT,
    opened_at       BIGINT NOT NULL,
    PRIMARY KEY (tenant_code, id),
    FOREIGN KEY (tenant_code, record_id) REFERENCES service_records (tenant_code, id)
);
CREATE UNIQUE INDEX disputes_one_unsettled ON disputes (tenant_code, record_id) WHERE status IN ('open', 'answered');
CREATE INDEX disputes_of_team ON disputes (tenant_code, team_id, status);

-- What a volunteer or a team is told: a star level reached, a check-out that never came.
CREATE TABLE notices (
    tenant_code  TEXT NOT NULL,
    id           TEXT NOT NULL,
    volunteer_id TEXT,
    team_id      TEXT,
    kind         TEXT NOT NULL,
    detail       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_code, id)
);
CREATE INDEX notices_of_volunteer ON notices (tenant_code, volunteer_id, created_at);
CREATE INDEX notices_of_team ON notices (tenant_code, team_id, created_at);

-- Certificates of service (志愿服务记录证明) and the register of those issued: what one states
-- is fixed when it is issued.
CREATE TABLE certificates (
    tenant_code       TEXT NOT NULL,
    id                TEXT NOT NULL,
    number            TEXT,
    volunteer_id      TEXT NOT NULL,
    team_id           TEXT,
    period_from       BIGINT NOT NULL,
    period_to         BIGINT NOT NULL,
    purpose           TEXT,
    status            TEXT NOT NULL CHECK (status IN ('requested', 'issued', 'revoked')),
    requested_at      BIGINT NOT NULL,
    facts             TEXT,
    issued_at         BIGINT,
    issued_by         TEXT,
    revoked_at        BIGINT,
    revoked_by        TEXT,
    revocation_reason TEXT,
    PRIMARY KEY (tenant_code, id),
    UNIQUE (tenant_code, number),
    FOREIGN KEY (tenant_code, volunteer_id) REFERENCES volunteers (tenant_code, id)
);
CREATE INDEX certificates_of_volunteer ON certificates (tenant_code, volunteer_id, requested_at);
