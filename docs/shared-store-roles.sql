-- shared-store-roles.sql - the roles of a shared tlsready store (docs/shared-store.md).
--
-- Run once by a superuser in the tlsready database, after the schema exists (the first sensor or
-- import, run as the owner role, creates it).  Then:
--   - a sensor logs in as a role named like its --sensor, member of tlsready_sensor: it reads every
--     row (the duplicate check looks at the other sensors' flow keys) but inserts, updates and
--     deletes only rows whose sensor column is its own name (row-level security);
--   - a report logs in as a member of tlsready_report: SELECT only.
-- Login roles and passwords are made apart (CREATE ROLE "site-a" LOGIN IN ROLE tlsready_sensor;
-- the password goes into that sensor host's password file, never on a command line).
-- tests/integration/test_pgstore.py runs this file and checks what it promises.

DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tlsready_sensor') THEN
    CREATE ROLE tlsready_sensor NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tlsready_report') THEN
    CREATE ROLE tlsready_report NOLOGIN;
  END IF;
END $$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO tlsready_sensor, tlsready_report;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO tlsready_sensor, tlsready_report;
GRANT INSERT, UPDATE, DELETE ON inv_client, inv_usage, inv_name, inv_host_name, inv_lease, inv_port, inv_note, cert, counter,
  capture_interval, run, checkpoint, sensor, import, flow, attempt_group TO tlsready_sensor;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO tlsready_sensor;

-- every table with a sensor column: all may read, a sensor writes only its own rows
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['inv_client', 'inv_usage', 'inv_name', 'inv_host_name', 'inv_lease', 'inv_port', 'inv_note', 'cert', 'counter',
                           'capture_interval', 'run', 'checkpoint', 'import', 'flow', 'attempt_group'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('DROP POLICY IF EXISTS read_all ON %I', t);
    EXECUTE format('DROP POLICY IF EXISTS own_insert ON %I', t);
    EXECUTE format('DROP POLICY IF EXISTS own_update ON %I', t);
    EXECUTE format('DROP POLICY IF EXISTS own_delete ON %I', t);
    EXECUTE format('CREATE POLICY read_all ON %I FOR SELECT USING (true)', t);
    EXECUTE format('CREATE POLICY own_insert ON %I FOR INSERT TO tlsready_sensor'
                   ' WITH CHECK (sensor = current_user)', t);
    EXECUTE format('CREATE POLICY own_update ON %I FOR UPDATE TO tlsready_sensor'
                   ' USING (sensor = current_user) WITH CHECK (sensor = current_user)', t);
    EXECUTE format('CREATE POLICY own_delete ON %I FOR DELETE TO tlsready_sensor'
                   ' USING (sensor = current_user)', t);
  END LOOP;
END $$;
ALTER TABLE sensor ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS read_all ON sensor;
DROP POLICY IF EXISTS own_rows ON sensor;
CREATE POLICY read_all ON sensor FOR SELECT USING (true);
CREATE POLICY own_rows ON sensor FOR ALL TO tlsready_sensor USING (name = current_user)
  WITH CHECK (name = current_user);
