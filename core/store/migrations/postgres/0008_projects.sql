-- Projects (R13) with their shifts, needs (R4, R14) and sign-ups (R15).
--
-- Places are kept in WGS-84 as whole 1e-7 degrees (about a centimetre), so both backends
-- compare them as integers; a project's service categories are also kept as bits
-- (`ServiceCategory::bit`), so a search filters by category with one AND. A shift counts the
-- places its sign-ups hold (`taken`) and its waiting list (`waiting`) in the transaction that
-- changes them; `taken <= capacity` is a constraint, so no interleaving of sign-ups can overfill
-- a shift.

-- Whether the office approves projects before they recruit, and the service categories the
-- tenant uses (a JSON list; NULL: every national category).
ALTER TABLE tenants ADD COLUMN project_approval BIGINT NOT NULL DEFAULT 0 CHECK (project_approval IN (0, 1));
ALTER TABLE tenants ADD COLUMN service_categories TEXT;

CREATE TABLE needs (
    tenant_code        TEXT COLLATE "C" NOT NULL REFERENCES tenants (code),
    id                 TEXT COLLATE "C" NOT NULL,
    title              TEXT NOT NULL,
    description        TEXT NOT NULL,
    categories         TEXT NOT NULL,
    region_code        TEXT COLLATE "C" NOT NULL,
    address            TEXT NOT NULL,
    longitude_e7       BIGINT,
    latitude_e7        BIGINT,
    starts_at          BIGINT NOT NULL,
    ends_at            BIGINT NOT NULL,
    people_needed      BIGINT NOT NULL CHECK (people_needed > 0),
    contact_name       TEXT NOT NULL,
    contact_mobile     TEXT NOT NULL,
    poster             TEXT NOT NULL CHECK (poster IN ('resident', 'community', 'unit')),
    unit_id            TEXT COLLATE "C",
    posted_by          TEXT COLLATE "C" NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('submitted', 'open', 'rejected', 'met', 'unmet')),
    decision_reason    TEXT,
    posted_at          BIGINT NOT NULL,
    changed_at         BIGINT NOT NULL,
    PRIMARY KEY (tenant_code, id),
    FOREIGN KEY (tenant_code, region_code) REFERENCES regions (tenant_code, code),
    FOREIGN KEY (tenant_code, unit_id) REFERENCES units (tenant_code, id),
    FOREIGN KEY (tenant_code, posted_by) REFERENCES accounts (tenant_code, id)
);
CREATE INDEX needs_by_status ON needs (tenant_code, status, posted_at, id);

CREATE TABLE projects (
    tenant_code              TEXT COLLATE "C" NOT NULL REFERENCES tenants (code),
    id                       TEXT COLLATE "C" NOT NULL,
    team_id                  TEXT COLLATE "C" NOT NULL,
    need_id                  TEXT COLLATE "C",
    title                    TEXT NOT NULL,
    summary                  TEXT NOT NULL,
    description              TEXT NOT NULL,
    categories               TEXT NOT NULL,
    category_bits            BIGINT NOT NULL,
    skills                   TEXT NOT NULL,
    region_code              TEXT COLLATE "C" NOT NULL,
    address                  TEXT NOT NULL,
    longitude_e7             BIGINT NOT NULL,
    latitude_e7              BIGINT NOT NULL,
    starts_at                BIGINT NOT NULL,
    ends_at                  BIGINT NOT NULL,
    contact_name             TEXT NOT NULL,
    contact_mobile           TEXT NOT NULL,
    minors                   TEXT NOT NULL CHECK (minors IN ('not_allowed', 'with_guardian_consent')),
    acceptance               TEXT NOT NULL CHECK (acceptance IN ('automatic', 'by_team')),
    withdrawal_cutoff_hours  BIGINT NOT NULL,
    status                   TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'published', 'taken_down')),
    decision_reason          TEXT,
    created_at               BIGINT NOT NULL,
    created_by               TEXT NOT NULL,
    changed_at               BIGINT NOT NULL,
    PRIMARY KEY (tenant_code, id),
    FOREIGN KEY (tenant_code, team_id) REFERENCES teams (tenant_code, id),
    FOREIGN KEY (tenant_code, need_id) REFERENCES needs (tenant_code, id),
    FOREIGN KEY (tenant_code, region_code) REFERENCES regions (tenant_code, code)
);
-- Nearby search: a range of latitudes, then longitudes, read from the index itself.
CREATE INDEX projects_nearby ON projects (tenant_code, status, latitude_e7, longitude_e7, ends_at, category_bits);
CREATE INDEX projects_by_start ON projects (tenant_code, status, starts_at, id);
CREATE INDEX projects_of_team ON projects (tenant_code, team_id, created_at);
CREATE INDEX projects_of_need ON projects (tenant_code, need_id);

CREATE TABLE shifts (
    tenant_code             TEXT COLLATE "C" NOT NULL,
    id                      TEXT COLLATE "C" NOT NULL,
    project_id              TEXT COLLATE "C" NOT NULL,
    position                BIGINT NOT NULL,
    starts_at               BIGINT NOT NULL,
    ends_at                 BIGINT NOT NULL,
    address                 TEXT,
    longitude_e7            BIGINT,
    latitude_e7             BIGINT,
    capacity                BIGINT NOT NULL CHECK (capacity > 0),
    taken                   BIGINT NOT NULL DEFAULT 0,
    waiting                 BIGINT NOT NULL DEFAULT 0 CHECK (waiting >= 0),
    skills                  TEXT NOT NULL,
    check_in_before_minutes BIGINT NOT NULL,
    check_in_after_minutes  BIGINT NOT NULL,
    PRIMARY KEY (tenant_code, id),
    CONSTRAINT shifts_within_capacity CHECK (taken >= 0 AND taken <= capacity),
    FOREIGN KEY (tenant_code, project_id) REFERENCES projects (tenant_code, id)
);
CREATE INDEX shifts_of_project ON shifts (tenant_code, project_id, position);

CREATE TABLE enrollments (
    tenant_code           TEXT COLLATE "C" NOT NULL,
    id                    TEXT COLLATE "C" NOT NULL,
    shift_id              TEXT COLLATE "C" NOT NULL,
    project_id            TEXT COLLATE "C" NOT NULL,
    volunteer_id          TEXT COLLATE "C" NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('applied', 'accepted', 'waitlisted', 'rejected', 'withdrawn', 'removed')),
    guardian_name         TEXT,
    guardian_mobile       TEXT,
    guardian_relationship TEXT,
    reason                TEXT,
    enrolled_at           BIGINT NOT NULL,
    changed_at            BIGINT NOT NULL,
    changed_by            TEXT NOT NULL,
    PRIMARY KEY (tenant_code, id),
    UNIQUE (tenant_code, shift_id, volunteer_id),
    FOREIGN KEY (tenant_code, shift_id) REFERENCES shifts (tenant_code, id),
    FOREIGN KEY (tenant_code, project_id) REFERENCES projects (tenant_code, id),
    FOREIGN KEY (tenant_code, volunteer_id) REFERENCES volunteers (tenant_code, id)
);
-- The waiting list, oldest first.
CREATE INDEX enrollments_of_shift ON enrollments (tenant_code, shift_id, status, enrolled_at, id);
CREATE INDEX enrollments_of_volunteer ON enrollments (tenant_code, volunteer_id, status);
