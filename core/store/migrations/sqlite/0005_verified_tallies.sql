-- Verified volunteers counted per tenant, unit and region as they are verified, so that the
-- registration report (R16-R18) reads a few thousand tallies instead of every volunteer. Triggers
-- keep the tallies in the transaction of every change of a volunteer's status, unit or region.
-- unit_key is the unit's id, or '' for volunteers of no unit.

CREATE TABLE verified_tallies (
    tenant_code TEXT NOT NULL,
    unit_key    TEXT NOT NULL,
    region_code TEXT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (tenant_code, unit_key, region_code)
);

INSERT INTO verified_tallies (tenant_code, unit_key, region_code, n)
SELECT tenant_code, COALESCE(unit_id, ''), region_code, COUNT(*)
FROM volunteers WHERE status = 'verified'
GROUP BY tenant_code, COALESCE(unit_id, ''), region_code;

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
