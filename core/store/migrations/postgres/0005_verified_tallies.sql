-- Verified volunteers counted per tenant, unit and region as they are verified, so that the
-- registration report (R16-R18) reads a few thousand tallies instead of every volunteer. A
-- trigger keeps the tallies in the transaction of every change of a volunteer's status, unit or
-- region. unit_key is the unit's id, or '' for volunteers of no unit.

CREATE TABLE verified_tallies (
    tenant_code TEXT COLLATE "C" NOT NULL,
    unit_key    TEXT COLLATE "C" NOT NULL,
    region_code TEXT COLLATE "C" NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (tenant_code, unit_key, region_code)
);

INSERT INTO verified_tallies (tenant_code, unit_key, region_code, n)
SELECT tenant_code, COALESCE(unit_id, ''), region_code, COUNT(*)
FROM volunteers WHERE status = 'verified'
GROUP BY tenant_code, COALESCE(unit_id, ''), region_code;

CREATE FUNCTION volunteers_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        IF OLD.status = 'verified' THEN
            UPDATE verified_tallies SET n = n - 1
            WHERE tenant_code = OLD.tenant_code AND unit_key = COALESCE(OLD.unit_id, '')
              AND region_code = OLD.region_code;
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF NEW.status = 'verified' THEN
            INSERT INTO verified_tallies (tenant_code, unit_key, region_code, n)
            VALUES (NEW.tenant_code, COALESCE(NEW.unit_id, ''), NEW.region_code, 1)
            ON CONFLICT (tenant_code, unit_key, region_code)
            DO UPDATE SET n = verified_tallies.n + 1;
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER volunteers_tally
AFTER INSERT OR DELETE OR UPDATE OF status, unit_id, region_code ON volunteers
FOR EACH ROW EXECUTE FUNCTION volunteers_tally();
