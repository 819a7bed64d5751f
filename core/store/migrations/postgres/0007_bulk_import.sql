-- What a bulk import of pending volunteers costs PostgreSQL per row, made smaller.
--
-- The tally trigger fires only for rows that touch a verified volunteer, as SQLite's do: a
-- WHEN clause is checked as the row is written, so the pending rows of an import queue no
-- trigger event at all (before, each of them queued one that then did nothing).
DROP TRIGGER volunteers_tally ON volunteers;
CREATE TRIGGER volunteers_tally_insert AFTER INSERT ON volunteers
FOR EACH ROW WHEN (NEW.status = 'verified') EXECUTE FUNCTION volunteers_tally();
CREATE TRIGGER volunteers_tally_update AFTER UPDATE OF status, unit_id, region_code ON volunteers
FOR EACH ROW WHEN (OLD.status = 'verified' OR NEW.status = 'verified') EXECUTE FUNCTION volunteers_tally();
CREATE TRIGGER volunteers_tally_delete AFTER DELETE ON volunteers
FOR EACH ROW WHEN (OLD.status = 'verified') EXECUTE FUNCTION volunteers_tally();

-- An account and a volunteer number are unique within a tenant where there is one; imported
-- volunteers have neither until they sign up or are verified, and a partial index keeps no
-- entry for them (the names stay, so a clash is still named the same).
ALTER TABLE volunteers DROP CONSTRAINT volunteers_tenant_code_account_id_key;
CREATE UNIQUE INDEX volunteers_tenant_code_account_id_key ON volunteers (tenant_code, account_id)
    WHERE account_id IS NOT NULL;
ALTER TABLE volunteers DROP CONSTRAINT volunteers_tenant_code_volunteer_number_key;
CREATE UNIQUE INDEX volunteers_tenant_code_volunteer_number_key ON volunteers (tenant_code, volunteer_number)
    WHERE volunteer_number IS NOT NULL;
