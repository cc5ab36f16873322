/*
 * store_pg_sql.c - the shared PostgreSQL store's schema (its migrations) and
 * the statements a sensor's batches name (see store_pg.h).
 *
 * Every table carries the sensor that wrote the row.  A checkpoint's rows go
 * first into temporary staging tables (one row per finished connection and
 * per inventory fact of it); tlsready_merge() then, under one advisory lock,
 * marks the connections another sensor already stored (same 5-tuple, start
 * within PG_DUP_WINDOW_US), keeps the others as flow records (partitioned by
 * day) and merges their inventory facts into the sensor's rows: counts add
 * up, first seen is the minimum, last seen the maximum, bit sets are ORed,
 * name sets are unions.  Nothing here holds data from the wire: the
 * statements take it as bound parameters.  Tables: docs/schema.md.
 */
#include "store_pg.h"

/* ---- merges: ON CONFLICT clauses, the same rules as the SQLite store ---- */

#define CLIENT_MERGE " ON CONFLICT (sensor, day, ip, open)" CLIENT_SET
/* schema 3: a row per (address, DHCP host) */
#define CLIENT_MERGE3 " ON CONFLICT (sensor, day, ip, open, host)" CLIENT_SET \
	", client_id=GREATEST(t.client_id, excluded.client_id)"
#define CLIENT_SET \
	" DO UPDATE SET flows=t.flows + excluded.flows," \
	" internal=GREATEST(t.internal, excluded.internal), first_us=LEAST(t.first_us, excluded.first_us)," \
	" last_us=GREATEST(t.last_us, excluded.last_us)," \
	" first_nonsecure_us=CASE WHEN t.first_nonsecure_us=0 THEN excluded.first_nonsecure_us" \
	"  WHEN excluded.first_nonsecure_us=0 THEN t.first_nonsecure_us" \
	"  ELSE LEAST(t.first_nonsecure_us, excluded.first_nonsecure_us) END," \
	" last_nonsecure_us=GREATEST(t.last_nonsecure_us, excluded.last_nonsecure_us)," \
	" findings=t.findings | excluded.findings, signon_failures=t.signon_failures + excluded.signon_failures," \
	" nonsecure_lookup=GREATEST(t.nonsecure_lookup, excluded.nonsecure_lookup)," \
	" offer_only_legacy=CASE WHEN t.offer_tls<>0 AND excluded.offer_tls<>0" \
	"  THEN LEAST(t.offer_only_legacy, excluded.offer_only_legacy)" \
	"  WHEN excluded.offer_tls<>0 THEN excluded.offer_only_legacy ELSE t.offer_only_legacy END," \
	" offer_tls=GREATEST(t.offer_tls, excluded.offer_tls)," \
	" offer_max_version=GREATEST(t.offer_max_version, excluded.offer_max_version)," \
	" offer_families=t.offer_families | excluded.offer_families," \
	" offer_negotiated_legacy=GREATEST(t.offer_negotiated_legacy, excluded.offer_negotiated_legacy)"
#define USAGE_MERGE " ON CONFLICT (sensor, day, client, open, server, service, port, cls)" USAGE_SET
#define USAGE_MERGE3 " ON CONFLICT (sensor, day, client, open, server, service, port, cls, host)" USAGE_SET
#define USAGE_SET \
	" DO UPDATE SET" \
	" connections=t.connections + excluded.connections, refused=t.refused + excluded.refused," \
	" unanswered=t.unanswered + excluded.unanswered, attempts=t.attempts + excluded.attempts," \
	" failed_tls=t.failed_tls + excluded.failed_tls, cleartext=t.cleartext + excluded.cleartext," \
	" tls=t.tls + excluded.tls, tls_versions=t.tls_versions | excluded.tls_versions," \
	" mismatch=GREATEST(t.mismatch, excluded.mismatch)," \
	" first_us=LEAST(t.first_us, excluded.first_us), last_us=GREATEST(t.last_us, excluded.last_us)"
#define PORT_MERGE \
	" ON CONFLICT (sensor, day, open, server, port) DO UPDATE SET connections=t.connections + excluded.connections," \
	" tls_versions=t.tls_versions | excluded.tls_versions, findings=t.findings | excluded.findings," \
	" release_vrm=GREATEST(t.release_vrm, excluded.release_vrm)"
#define NOTE_MERGE \
	" ON CONFLICT (sensor, day, open, kind, client, server, port, service, usr, detail) DO UPDATE SET" \
	" count=t.count + excluded.count, first_us=LEAST(t.first_us, excluded.first_us)," \
	" last_us=GREATEST(t.last_us, excluded.last_us)"
#define CERT_MERGE \
	" ON CONFLICT (sensor, server, port, sha256) DO UPDATE SET first_us=LEAST(t.first_us, excluded.first_us)," \
	" last_us=GREATEST(t.last_us, excluded.last_us), not_before_us=excluded.not_before_us," \
	" key_type=excluded.key_type, key_bits=excluded.key_bits, sig_alg=excluded.sig_alg," \
	" self_signed=excluded.self_signed"

/* a staging row counts unless it belongs to a connection found to be another sensor's copy */
#define KEEP(alias) " WHERE " alias ".f < 0 OR NOT EXISTS(SELECT 1 FROM s_flow x WHERE x.f=" alias ".f AND x.dup)"

/* ---- schema version 1 ---- */

const char pg_schema_v1[] =
	"CREATE TABLE meta(key text PRIMARY KEY, value text NOT NULL);"
	"CREATE TABLE migrations(version int PRIMARY KEY, applied_us bigint NOT NULL, description text NOT NULL);"
	"CREATE TABLE sensor(name text PRIMARY KEY, first_us bigint NOT NULL, last_us bigint NOT NULL);"
	"CREATE TABLE run(sensor text NOT NULL, run text NOT NULL, iface text, started_us bigint NOT NULL,"
	" stopped_us bigint, last_checkpoint_us bigint, PRIMARY KEY(sensor, run));"
	"CREATE TABLE checkpoint(sensor text NOT NULL, run text NOT NULL, seq bigint NOT NULL, applied_us bigint NOT NULL,"
	" flows bigint NOT NULL, duplicates bigint NOT NULL DEFAULT 0, PRIMARY KEY(sensor, run, seq));"
	"CREATE TABLE counter(sensor text NOT NULL, name text NOT NULL, value bigint NOT NULL, PRIMARY KEY(sensor, name));"
	"CREATE TABLE capture_interval(sensor text NOT NULL, iface text, start_us bigint NOT NULL, end_us bigint NOT NULL,"
	" packets bigint NOT NULL, received bigint, dropped_kernel bigint, dropped_interface bigint, flows bigint NOT NULL,"
	" not_analysed bigint NOT NULL);"
	"CREATE INDEX capture_interval_end ON capture_interval(end_us);"
	"CREATE TABLE import(sha256 text PRIMARY KEY, sensor text NOT NULL, name text NOT NULL, imported_us bigint NOT NULL);"
	"CREATE TABLE inv_client(sensor text NOT NULL, day bigint NOT NULL, ip text NOT NULL, open smallint NOT NULL,"
	" flows bigint NOT NULL, internal smallint NOT NULL, first_us bigint NOT NULL, last_us bigint NOT NULL,"
	" first_nonsecure_us bigint NOT NULL, last_nonsecure_us bigint NOT NULL, findings bigint NOT NULL,"
	" signon_failures bigint NOT NULL, nonsecure_lookup smallint NOT NULL, offer_tls smallint NOT NULL,"
	" offer_max_version int NOT NULL, offer_families bigint NOT NULL, offer_only_legacy smallint NOT NULL,"
	" offer_negotiated_legacy smallint NOT NULL, PRIMARY KEY(sensor, day, ip, open));"
	"CREATE INDEX inv_client_day ON inv_client(day, ip);"
	"CREATE TABLE inv_usage(sensor text NOT NULL, day bigint NOT NULL, client text NOT NULL, open smallint NOT NULL,"
	" server text NOT NULL, service text NOT NULL, port int NOT NULL, cls int NOT NULL, connections bigint NOT NULL,"
	" refused bigint NOT NULL, unanswered bigint NOT NULL, attempts bigint NOT NULL, failed_tls bigint NOT NULL,"
	" cleartext bigint NOT NULL, tls bigint NOT NULL, tls_versions bigint NOT NULL, mismatch smallint NOT NULL,"
	" first_us bigint NOT NULL, last_us bigint NOT NULL, PRIMARY KEY(sensor, day, client, open, server, service, port, cls));"
	"CREATE INDEX inv_usage_day ON inv_usage(day, client);"
	"CREATE TABLE inv_name(sensor text NOT NULL, day bigint NOT NULL, client text NOT NULL, open smallint NOT NULL,"
	" server text NOT NULL, service text NOT NULL, port int NOT NULL, cls int NOT NULL, kind text NOT NULL,"
	" name text NOT NULL, PRIMARY KEY(sensor, day, client, open, server, service, port, cls, kind, name));"
	"CREATE INDEX inv_name_day ON inv_name(day, client);"
	"CREATE TABLE inv_port(sensor text NOT NULL, day bigint NOT NULL, open smallint NOT NULL, server text NOT NULL,"
	" port int NOT NULL, service text NOT NULL, cls int NOT NULL, connections bigint NOT NULL, tls_versions bigint NOT NULL,"
	" findings bigint NOT NULL, release_vrm bigint NOT NULL, PRIMARY KEY(sensor, day, open, server, port));"
	"CREATE TABLE inv_note(sensor text NOT NULL, day bigint NOT NULL, open smallint NOT NULL, kind int NOT NULL,"
	" client text NOT NULL, server text NOT NULL, port int NOT NULL, service text NOT NULL, usr text NOT NULL,"
	" detail text NOT NULL, count bigint NOT NULL, first_us bigint NOT NULL, last_us bigint NOT NULL,"
	" PRIMARY KEY(sensor, day, open, kind, client, server, port, service, usr, detail));"
	"CREATE TABLE cert(sensor text NOT NULL, server text NOT NULL, port int NOT NULL, sha256 text NOT NULL,"
	" subject text NOT NULL, issuer text NOT NULL, not_after_us bigint NOT NULL, first_us bigint NOT NULL,"
	" last_us bigint NOT NULL, not_before_us bigint NOT NULL, key_type text NOT NULL, key_bits int NOT NULL,"
	" sig_alg text NOT NULL, self_signed smallint NOT NULL, PRIMARY KEY(sensor, server, port, sha256));"
	/* flow records: one partition per UTC day, created on demand, dropped whole by --retain */
	"CREATE TABLE flow(sensor text NOT NULL, start_us bigint NOT NULL, end_us bigint NOT NULL, client text NOT NULL,"
	" cport int NOT NULL, server text NOT NULL, sport int NOT NULL, service text, port_class text NOT NULL,"
	" tcp text NOT NULL, transport text NOT NULL, json text NOT NULL) PARTITION BY RANGE (start_us);"
	"CREATE INDEX flow_tuple ON flow(client, server, sport, cport, start_us);"
	/* a day's partition: created with the schema owner's rights (a sensor role may not create tables) */
	"CREATE FUNCTION tlsready_flow_partition(d bigint) RETURNS void LANGUAGE plpgsql SECURITY DEFINER"
	" SET search_path = public, pg_catalog AS $f$"
	" DECLARE n text := 'flow_' || to_char(timestamp '1970-01-01' + d * interval '1 day', 'YYYYMMDD');"
	" BEGIN"
	"  IF to_regclass(quote_ident(n)) IS NULL THEN"
	"   EXECUTE format('CREATE TABLE %I PARTITION OF flow FOR VALUES FROM (%s) TO (%s)', n,"
	"    d * 86400000000, (d + 1) * 86400000000);"
	"  END IF;"
	" END $f$;"
	/* --retain: whole days older than the cut go, as whole partitions (by a role that owns them) */
	"CREATE FUNCTION tlsready_retain(cut_us bigint) RETURNS int LANGUAGE plpgsql AS $f$"
	" DECLARE r record; n int := 0;"
	" BEGIN"
	"  FOR r IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid=i.inhrelid"
	"   WHERE i.inhparent='flow'::regclass AND c.relname ~ '^flow_[0-9]{8}$' LOOP"
	"   IF (to_date(substr(r.relname, 6), 'YYYYMMDD') - date '1970-01-01' + 1)::bigint * 86400000000 <= cut_us THEN"
	"    BEGIN EXECUTE format('DROP TABLE %I', r.relname); n := n + 1;"
	"    EXCEPTION WHEN insufficient_privilege THEN NULL;"   /* a sensor role: the owner's retention drops it */
	"    END;"
	"   END IF;"
	"  END LOOP;"
	"  DELETE FROM capture_interval WHERE end_us < cut_us;"
	"  RETURN n;"
	" END $f$;"
	/* a sensor run starts: what a killed run of this sensor left open was seen */
	"CREATE FUNCTION tlsready_run_start(p_sensor text, p_run text, p_iface text, p_now bigint) RETURNS void"
	" LANGUAGE plpgsql AS $f$ BEGIN"
	"  INSERT INTO inv_client AS t SELECT sensor, day, ip, 0, flows, internal, first_us, last_us, first_nonsecure_us,"
	"   last_nonsecure_us, findings, signon_failures, nonsecure_lookup, offer_tls, offer_max_version, offer_families,"
	"   offer_only_legacy, offer_negotiated_legacy FROM inv_client WHERE sensor=p_sensor AND open=1" CLIENT_MERGE ";"
	"  INSERT INTO inv_usage AS t SELECT sensor, day, client, 0, server, service, port, cls, connections, refused,"
	"   unanswered, attempts, failed_tls, cleartext, tls, tls_versions, mismatch, first_us, last_us FROM inv_usage"
	"   WHERE sensor=p_sensor AND open=1" USAGE_MERGE ";"
	"  INSERT INTO inv_name SELECT sensor, day, client, 0, server, service, port, cls, kind, name FROM inv_name"
	"   WHERE sensor=p_sensor AND open=1 ON CONFLICT DO NOTHING;"
	"  INSERT INTO inv_port AS t SELECT sensor, day, 0, server, port, service, cls, connections, tls_versions, findings,"
	"   release_vrm FROM inv_port WHERE sensor=p_sensor AND open=1" PORT_MERGE ";"
	"  INSERT INTO inv_note AS t SELECT sensor, day, 0, kind, client, server, port, service, usr, detail, count, first_us,"
	"   last_us FROM inv_note WHERE sensor=p_sensor AND open=1" NOTE_MERGE ";"
	"  PERFORM tlsready_drop_open(p_sensor);"
	"  INSERT INTO counter AS t VALUES(p_sensor, 'unclean_stops',"
	"   (SELECT count(*) FROM run WHERE sensor=p_sensor AND stopped_us IS NULL))"
	"   ON CONFLICT (sensor, name) DO UPDATE SET value=t.value + excluded.value;"
	"  UPDATE run SET stopped_us=last_checkpoint_us WHERE sensor=p_sensor AND stopped_us IS NULL;"
	"  INSERT INTO run VALUES(p_sensor, p_run, p_iface, p_now, NULL, p_now) ON CONFLICT DO NOTHING;"
	" END $f$;"
	"CREATE FUNCTION tlsready_drop_open(p_sensor text) RETURNS void LANGUAGE sql AS $f$"
	"  DELETE FROM inv_client WHERE sensor=p_sensor AND open=1; DELETE FROM inv_usage WHERE sensor=p_sensor AND open=1;"
	"  DELETE FROM inv_name WHERE sensor=p_sensor AND open=1; DELETE FROM inv_port WHERE sensor=p_sensor AND open=1;"
	"  DELETE FROM inv_note WHERE sensor=p_sensor AND open=1;"
	" $f$;"
	/* a checkpoint's staging rows into the store; returns the connections found to be duplicates */
	"CREATE FUNCTION tlsready_merge(p_sensor text, p_window bigint) RETURNS bigint LANGUAGE plpgsql AS $f$"
	" DECLARE n bigint;"
	" BEGIN"
	"  PERFORM pg_advisory_xact_lock(" PG_ADVISORY_KEY ");"
	"  UPDATE s_flow s SET dup=true WHERE EXISTS(SELECT 1 FROM flow x WHERE x.client=s.client AND x.server=s.server"
	"   AND x.sport=s.sport AND x.cport=s.cport AND x.start_us BETWEEN s.start_us - p_window AND s.start_us + p_window"
	"   AND x.sensor<>p_sensor);"
	"  PERFORM tlsready_flow_partition(d) FROM (SELECT DISTINCT floor(start_us / 86400000000.0)::bigint AS d"
	"   FROM s_flow WHERE NOT dup) x;"
	"  INSERT INTO flow SELECT p_sensor, start_us, end_us, client, cport, server, sport, service, port_class, tcp,"
	"   transport, json FROM s_flow WHERE NOT dup;"
	"  INSERT INTO inv_client AS t SELECT p_sensor, day, ip, open, sum(flows), max(internal), min(first_us), max(last_us),"
	"   coalesce(min(nullif(first_nonsecure_us, 0)), 0), max(last_nonsecure_us), bit_or(findings), sum(signon_failures),"
	"   max(nonsecure_lookup), max(offer_tls), max(offer_max_version), bit_or(offer_families),"
	"   coalesce(min(CASE WHEN offer_tls<>0 THEN offer_only_legacy END), 0), max(offer_negotiated_legacy)"
	"   FROM s_client c" KEEP("c") " GROUP BY day, ip, open" CLIENT_MERGE ";"
	"  INSERT INTO inv_usage AS t SELECT p_sensor, day, client, open, server, service, port, cls, sum(connections),"
	"   sum(refused), sum(unanswered), sum(attempts), sum(failed_tls), sum(cleartext), sum(tls), bit_or(tls_versions),"
	"   max(mismatch), min(first_us), max(last_us) FROM s_usage c" KEEP("c")
	"   GROUP BY day, client, open, server, service, port, cls" USAGE_MERGE ";"
	"  INSERT INTO inv_name SELECT DISTINCT p_sensor, day, client, open, server, service, port, cls, kind, name"
	"   FROM s_name c" KEEP("c") " ON CONFLICT DO NOTHING;"
	"  INSERT INTO inv_port AS t SELECT p_sensor, day, open, server, port, max(service), max(cls), sum(connections),"
	"   bit_or(tls_versions), bit_or(findings), max(release_vrm) FROM s_port c" KEEP("c")
	"   GROUP BY day, open, server, port" PORT_MERGE ";"
	"  INSERT INTO inv_note AS t SELECT p_sensor, day, open, kind, client, server, port, service, usr, detail, sum(count),"
	"   min(first_us), max(last_us) FROM s_note c" KEEP("c")
	"   GROUP BY day, open, kind, client, server, port, service, usr, detail" NOTE_MERGE ";"
	"  INSERT INTO cert AS t SELECT p_sensor, server, port, sha256, max(subject), max(issuer), max(not_after_us),"
	"   min(first_us), max(last_us), max(not_before_us), max(key_type), max(key_bits), max(sig_alg), max(self_signed)"
	"   FROM s_cert c" KEEP("c") " GROUP BY server, port, sha256" CERT_MERGE ";"
	"  SELECT count(*) INTO n FROM s_flow WHERE dup;"
	"  IF n > 0 THEN"
	"   INSERT INTO counter AS t VALUES(p_sensor, 'duplicate_connections', n)"
	"    ON CONFLICT (sensor, name) DO UPDATE SET value=t.value + excluded.value;"
	"  END IF;"
	"  RETURN n;"
	" END $f$;";

/* ---- schema version 2: the clients' host names (issue 17) ---- */

const char pg_schema_v2[] =
	"CREATE TABLE inv_host_name(sensor text NOT NULL, day bigint NOT NULL, client text NOT NULL, source text NOT NULL,"
	" name text NOT NULL, first_us bigint NOT NULL, last_us bigint NOT NULL, count bigint NOT NULL,"
	" PRIMARY KEY(sensor, day, client, source, name));"
	"CREATE INDEX inv_host_name_day ON inv_host_name(day, client);";

/* ---- schema version 3: identity over time (issue 17), as the SQLite state's schema 6 ----
 * Client, use, name and host-name rows keyed by (address, DHCP host): host is the key of the DHCP host
 * (its hardware address, as stored: redacted when the sensor redacts) whose lease held the address when
 * the connection started, '' when none (every row before version 3 keeps ''); the leases themselves are
 * kept (inv_lease) so that the next checkpoints and imports follow the same host.  The functions that name
 * the rows' keys are replaced. */

const char pg_schema_v3[] =
	"ALTER TABLE inv_client ADD COLUMN host text NOT NULL DEFAULT '', ADD COLUMN client_id text NOT NULL DEFAULT '';"
	"ALTER TABLE inv_client DROP CONSTRAINT inv_client_pkey, ADD PRIMARY KEY(sensor, day, ip, open, host);"
	"CREATE INDEX inv_client_host ON inv_client(host) WHERE host <> '';"
	"ALTER TABLE inv_usage ADD COLUMN host text NOT NULL DEFAULT '';"
	"ALTER TABLE inv_usage DROP CONSTRAINT inv_usage_pkey,"
	" ADD PRIMARY KEY(sensor, day, client, open, server, service, port, cls, host);"
	"ALTER TABLE inv_name ADD COLUMN host text NOT NULL DEFAULT '';"
	"ALTER TABLE inv_name DROP CONSTRAINT inv_name_pkey,"
	" ADD PRIMARY KEY(sensor, day, client, open, server, service, port, cls, kind, name, host);"
	"ALTER TABLE inv_host_name ADD COLUMN host text NOT NULL DEFAULT '';"
	"ALTER TABLE inv_host_name DROP CONSTRAINT inv_host_name_pkey, ADD PRIMARY KEY(sensor, day, client, host, source, name);"
	"CREATE TABLE inv_lease(sensor text NOT NULL, host text NOT NULL, ip text NOT NULL, start_us bigint NOT NULL,"
	" end_us bigint NOT NULL, client_id text NOT NULL, PRIMARY KEY(sensor, host, ip, start_us));"
	"CREATE INDEX inv_lease_end ON inv_lease(end_us);"
	"CREATE INDEX inv_lease_host ON inv_lease(host);"
	/* --retain: as version 1's, and a lease over before the cut no longer names anyone */
	"CREATE OR REPLACE FUNCTION tlsready_retain(cut_us bigint) RETURNS int LANGUAGE plpgsql AS $f$"
	" DECLARE r record; n int := 0;"
	" BEGIN"
	"  FOR r IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid=i.inhrelid"
	"   WHERE i.inhparent='flow'::regclass AND c.relname ~ '^flow_[0-9]{8}$' LOOP"
	"   IF (to_date(substr(r.relname, 6), 'YYYYMMDD') - date '1970-01-01' + 1)::bigint * 86400000000 <= cut_us THEN"
	"    BEGIN EXECUTE format('DROP TABLE %I', r.relname); n := n + 1;"
	"    EXCEPTION WHEN insufficient_privilege THEN NULL;"
	"    END;"
	"   END IF;"
	"  END LOOP;"
	"  DELETE FROM capture_interval WHERE end_us < cut_us;"
	"  DELETE FROM inv_lease WHERE end_us < cut_us;"
	"  RETURN n;"
	" END $f$;"
	"CREATE OR REPLACE FUNCTION tlsready_run_start(p_sensor text, p_run text, p_iface text, p_now bigint) RETURNS void"
	" LANGUAGE plpgsql AS $f$ BEGIN"
	"  INSERT INTO inv_client AS t SELECT sensor, day, ip, 0, flows, internal, first_us, last_us, first_nonsecure_us,"
	"   last_nonsecure_us, findings, signon_failures, nonsecure_lookup, offer_tls, offer_max_version, offer_families,"
	"   offer_only_legacy, offer_negotiated_legacy, host, client_id FROM inv_client WHERE sensor=p_sensor AND open=1"
	CLIENT_MERGE3 ";"
	"  INSERT INTO inv_usage AS t SELECT sensor, day, client, 0, server, service, port, cls, connections, refused,"
	"   unanswered, attempts, failed_tls, cleartext, tls, tls_versions, mismatch, first_us, last_us, host FROM inv_usage"
	"   WHERE sensor=p_sensor AND open=1" USAGE_MERGE3 ";"
	"  INSERT INTO inv_name SELECT sensor, day, client, 0, server, service, port, cls, kind, name, host FROM inv_name"
	"   WHERE sensor=p_sensor AND open=1 ON CONFLICT DO NOTHING;"
	"  INSERT INTO inv_port AS t SELECT sensor, day, 0, server, port, service, cls, connections, tls_versions, findings,"
	"   release_vrm FROM inv_port WHERE sensor=p_sensor AND open=1" PORT_MERGE ";"
	"  INSERT INTO inv_note AS t SELECT sensor, day, 0, kind, client, server, port, service, usr, detail, count, first_us,"
	"   last_us FROM inv_note WHERE sensor=p_sensor AND open=1" NOTE_MERGE ";"
	"  PERFORM tlsready_drop_open(p_sensor);"
	"  INSERT INTO counter AS t VALUES(p_sensor, 'unclean_stops',"
	"   (SELECT count(*) FROM run WHERE sensor=p_sensor AND stopped_us IS NULL))"
	"   ON CONFLICT (sensor, name) DO UPDATE SET value=t.value + excluded.value;"
	"  UPDATE run SET stopped_us=last_checkpoint_us WHERE sensor=p_sensor AND stopped_us IS NULL;"
	"  INSERT INTO run VALUES(p_sensor, p_run, p_iface, p_now, NULL, p_now) ON CONFLICT DO NOTHING;"
	" END $f$;"
	/* the duplicates are marked per connection as before; its rows then merge per (address, host) */
	"CREATE OR REPLACE FUNCTION tlsready_merge(p_sensor text, p_window bigint) RETURNS bigint LANGUAGE plpgsql AS $f$"
	" DECLARE n bigint;"
	" BEGIN"
	"  PERFORM pg_advisory_xact_lock(" PG_ADVISORY_KEY ");"
	"  UPDATE s_flow s SET dup=true WHERE EXISTS(SELECT 1 FROM flow x WHERE x.client=s.client AND x.server=s.server"
	"   AND x.sport=s.sport AND x.cport=s.cport AND x.start_us BETWEEN s.start_us - p_window AND s.start_us + p_window"
	"   AND x.sensor<>p_sensor);"
	"  PERFORM tlsready_flow_partition(d) FROM (SELECT DISTINCT floor(start_us / 86400000000.0)::bigint AS d"
	"   FROM s_flow WHERE NOT dup) x;"
	"  INSERT INTO flow SELECT p_sensor, start_us, end_us, client, cport, server, sport, service, port_class, tcp,"
	"   transport, json FROM s_flow WHERE NOT dup;"
	"  INSERT INTO inv_client AS t SELECT p_sensor, day, ip, open, sum(flows), max(internal), min(first_us), max(last_us),"
	"   coalesce(min(nullif(first_nonsecure_us, 0)), 0), max(last_nonsecure_us), bit_or(findings), sum(signon_failures),"
	"   max(nonsecure_lookup), max(offer_tls), max(offer_max_version), bit_or(offer_families),"
	"   coalesce(min(CASE WHEN offer_tls<>0 THEN offer_only_legacy END), 0), max(offer_negotiated_legacy), host,"
	"   max(client_id) FROM s_client c" KEEP("c") " GROUP BY day, ip, open, host" CLIENT_MERGE3 ";"
	"  INSERT INTO inv_usage AS t SELECT p_sensor, day, client, open, server, service, port, cls, sum(connections),"
	"   sum(refused), sum(unanswered), sum(attempts), sum(failed_tls), sum(cleartext), sum(tls), bit_or(tls_versions),"
	"   max(mismatch), min(first_us), max(last_us), host FROM s_usage c" KEEP("c")
	"   GROUP BY day, client, open, server, service, port, cls, host" USAGE_MERGE3 ";"
	"  INSERT INTO inv_name SELECT DISTINCT p_sensor, day, client, open, server, service, port, cls, kind, name, host"
	"   FROM s_name c" KEEP("c") " ON CONFLICT DO NOTHING;"
	"  INSERT INTO inv_port AS t SELECT p_sensor, day, open, server, port, max(service), max(cls), sum(connections),"
	"   bit_or(tls_versions), bit_or(findings), max(release_vrm) FROM s_port c" KEEP("c")
	"   GROUP BY day, open, server, port" PORT_MERGE ";"
	"  INSERT INTO inv_note AS t SELECT p_sensor, day, open, kind, client, server, port, service, usr, detail, sum(count),"
	"   min(first_us), max(last_us) FROM s_note c" KEEP("c")
	"   GROUP BY day, open, kind, client, server, port, service, usr, detail" NOTE_MERGE ";"
	"  INSERT INTO cert AS t SELECT p_sensor, server, port, sha256, max(subject), max(issuer), max(not_after_us),"
	"   min(first_us), max(last_us), max(not_before_us), max(key_type), max(key_bits), max(sig_alg), max(self_signed)"
	"   FROM s_cert c" KEEP("c") " GROUP BY server, port, sha256" CERT_MERGE ";"
	"  SELECT count(*) INTO n FROM s_flow WHERE dup;"
	"  IF n > 0 THEN"
	"   INSERT INTO counter AS t VALUES(p_sensor, 'duplicate_connections', n)"
	"    ON CONFLICT (sensor, name) DO UPDATE SET value=t.value + excluded.value;"
	"  END IF;"
	"  RETURN n;"
	" END $f$;";

/* The staging tables of a writing session: emptied at each commit. */
const char pg_staging_sql[] =
	"CREATE TEMP TABLE IF NOT EXISTS s_flow(f int NOT NULL, start_us bigint NOT NULL, end_us bigint NOT NULL,"
	" client text NOT NULL, cport int NOT NULL, server text NOT NULL, sport int NOT NULL, service text,"
	" port_class text NOT NULL, tcp text NOT NULL, transport text NOT NULL, json text NOT NULL,"
	" dup boolean NOT NULL DEFAULT false) ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS s_client(f int NOT NULL, day bigint, open smallint, ip text, flows bigint,"
	" internal smallint, first_us bigint, last_us bigint, first_nonsecure_us bigint, last_nonsecure_us bigint,"
	" findings bigint, signon_failures bigint, nonsecure_lookup smallint, offer_tls smallint, offer_max_version int,"
	" offer_families bigint, offer_only_legacy smallint, offer_negotiated_legacy smallint, host text, client_id text)"
	" ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS s_usage(f int NOT NULL, day bigint, open smallint, client text, server text,"
	" service text, port int, cls int, connections bigint, refused bigint, unanswered bigint, attempts bigint,"
	" failed_tls bigint, cleartext bigint, tls bigint, tls_versions bigint, mismatch smallint, first_us bigint,"
	" last_us bigint, host text) ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS s_name(f int NOT NULL, day bigint, open smallint, client text, server text,"
	" service text, port int, cls int, kind text, name text, host text) ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS s_port(f int NOT NULL, day bigint, open smallint, server text, port int,"
	" service text, cls int, connections bigint, tls_versions bigint, findings bigint, release_vrm bigint)"
	" ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS s_note(f int NOT NULL, day bigint, open smallint, kind int, client text,"
	" server text, port int, service text, usr text, detail text, count bigint, first_us bigint, last_us bigint)"
	" ON COMMIT DELETE ROWS;"
	"CREATE TEMP TABLE IF NOT EXISTS s_cert(f int NOT NULL, server text, port int, sha256 text, subject text,"
	" issuer text, not_after_us bigint, first_us bigint, last_us bigint, not_before_us bigint, key_type text,"
	" key_bits int, sig_alg text, self_signed smallint) ON COMMIT DELETE ROWS;";

/* ---- schema version 4: attempt-only connections past --max-attempts, folded (issue 18) ----
 * A row per sensor, UTC day (of the group's first connection), server, port and TCP outcome; server '' the
 * groups a checkpoint's table could not hold.  sources: 1,024 HyperLogLog registers (hll.h), merged by
 * each register's maximum; max_attempts: the sensor's cap. */

const char pg_schema_v4[] =
	"CREATE TABLE attempt_group(sensor text NOT NULL, day bigint NOT NULL, server text NOT NULL, port int NOT NULL,"
	" tcp int NOT NULL, connections bigint NOT NULL, first_us bigint NOT NULL, last_us bigint NOT NULL,"
	" sources bytea NOT NULL, max_attempts bigint NOT NULL, PRIMARY KEY(sensor, day, server, port, tcp));"
	"CREATE FUNCTION tlsready_hll_max(a bytea, b bytea) RETURNS bytea LANGUAGE sql IMMUTABLE AS $f$"
	"  SELECT CASE WHEN length(a) <> length(b) THEN b ELSE"
	"   (SELECT decode(string_agg(lpad(to_hex(GREATEST(get_byte(a, i), get_byte(b, i))), 2, '0'), '' ORDER BY i), 'hex')"
	"    FROM generate_series(0, length(a) - 1) i) END"
	" $f$;";

const char *const pg_stmt_sql[PGS_COUNT] = {
	[PGS_KEY] = "WITH s AS (INSERT INTO sensor AS t VALUES($1, $4::bigint, $4::bigint) ON CONFLICT (name)"
		    " DO UPDATE SET last_us=GREATEST(t.last_us, excluded.last_us))"
		    " INSERT INTO checkpoint(sensor, run, seq, applied_us, flows) VALUES($1, $2, $3, $4, $5)",
	[PGS_RUN_START] = "SELECT tlsready_run_start($1, $2, $3, $4)",
	[PGS_RUN_STOP] = "UPDATE run SET stopped_us=$3 WHERE sensor=$1 AND run=$2",
	[PGS_RUN_SEEN] = "UPDATE run SET last_checkpoint_us=$3 WHERE sensor=$1 AND run=$2",
	[PGS_S_FLOW] = "INSERT INTO s_flow(f, start_us, end_us, client, cport, server, sport, service, port_class, tcp,"
		       " transport, json) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
	[PGS_S_CLIENT] = "INSERT INTO s_client VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20)",
	[PGS_S_USAGE] = "INSERT INTO s_usage VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20)",
	[PGS_S_NAME] = "INSERT INTO s_name VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
	[PGS_S_PORT] = "INSERT INTO s_port VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
	[PGS_S_NOTE] = "INSERT INTO s_note VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)",
	[PGS_S_CERT] = "INSERT INTO s_cert VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)",
	[PGS_DROP_OPEN] = "SELECT tlsready_drop_open($1)",
	[PGS_MERGE] = "SELECT tlsready_merge($1, $2)",
	[PGS_COUNTER] = "INSERT INTO counter AS t VALUES($1, $2, $3) ON CONFLICT (sensor, name)"
			" DO UPDATE SET value=t.value + excluded.value",
	[PGS_INTERVAL] = "INSERT INTO capture_interval VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
	[PGS_IMPORT] = "INSERT INTO import VALUES($1, $2, $3, $4)",
	[PGS_RETAIN] = "SELECT tlsready_retain($1)",
	/* many staging rows at once: one array parameter per column */
	[PGS_A_FLOW] = "INSERT INTO s_flow(f, start_us, end_us, client, cport, server, sport, service, port_class, tcp,"
		       " transport, json) SELECT * FROM unnest($1::int[], $2::bigint[], $3::bigint[], $4::text[], $5::int[],"
		       " $6::text[], $7::int[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])",
	[PGS_A_CLIENT] = "INSERT INTO s_client SELECT * FROM unnest($1::int[], $2::bigint[], $3::smallint[], $4::text[],"
			 " $5::bigint[], $6::smallint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[],"
			 " $12::bigint[], $13::smallint[], $14::smallint[], $15::int[], $16::bigint[], $17::smallint[],"
			 " $18::smallint[], $19::text[], $20::text[])",
	[PGS_A_USAGE] = "INSERT INTO s_usage SELECT * FROM unnest($1::int[], $2::bigint[], $3::smallint[], $4::text[],"
			" $5::text[], $6::text[], $7::int[], $8::int[], $9::bigint[], $10::bigint[], $11::bigint[],"
			" $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[], $17::smallint[],"
			" $18::bigint[], $19::bigint[], $20::text[])",
	[PGS_A_NAME] = "INSERT INTO s_name SELECT * FROM unnest($1::int[], $2::bigint[], $3::smallint[], $4::text[],"
		       " $5::text[], $6::text[], $7::int[], $8::int[], $9::text[], $10::text[], $11::text[])",
	[PGS_A_PORT] = "INSERT INTO s_port SELECT * FROM unnest($1::int[], $2::bigint[], $3::smallint[], $4::text[],"
		       " $5::int[], $6::text[], $7::int[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[])",
	[PGS_A_NOTE] = "INSERT INTO s_note SELECT * FROM unnest($1::int[], $2::bigint[], $3::smallint[], $4::int[],"
		       " $5::text[], $6::text[], $7::int[], $8::text[], $9::text[], $10::text[], $11::bigint[], $12::bigint[],"
		       " $13::bigint[])",
	[PGS_HOST_NAME] = "INSERT INTO inv_host_name AS t VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)"
			  " ON CONFLICT (sensor, day, client, host, source, name) DO UPDATE SET"
			  " first_us=LEAST(t.first_us, excluded.first_us), last_us=GREATEST(t.last_us, excluded.last_us),"
			  " count=t.count + excluded.count",
	[PGS_LEASE] = "INSERT INTO inv_lease AS t VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT (sensor, host, ip, start_us)"
		      " DO UPDATE SET end_us=excluded.end_us, client_id=GREATEST(t.client_id, excluded.client_id)",
	[PGS_ATTEMPT_GROUP] = "INSERT INTO attempt_group AS t VALUES($1, $2, $3, $4, $5, $6, $7, $8, decode($9, 'hex'), $10)"
			      " ON CONFLICT (sensor, day, server, port, tcp) DO UPDATE SET connections=t.connections + excluded.connections,"
			      " first_us=LEAST(t.first_us, excluded.first_us), last_us=GREATEST(t.last_us, excluded.last_us),"
			      " sources=tlsready_hll_max(t.sources, excluded.sources), max_attempts=excluded.max_attempts",
	[PGS_A_CERT] = "INSERT INTO s_cert SELECT * FROM unnest($1::int[], $2::text[], $3::int[], $4::text[], $5::text[],"
		       " $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::int[],"
		       " $13::text[], $14::smallint[])",
};

const int pg_stmt_nparams[PGS_COUNT] = {
	[PGS_KEY] = 5, [PGS_RUN_START] = 4, [PGS_RUN_STOP] = 3, [PGS_RUN_SEEN] = 3, [PGS_S_FLOW] = 12,
	[PGS_S_CLIENT] = 20, [PGS_S_USAGE] = 20, [PGS_S_NAME] = 11, [PGS_S_PORT] = 11, [PGS_S_NOTE] = 13,
	[PGS_S_CERT] = 14, [PGS_DROP_OPEN] = 1, [PGS_MERGE] = 2, [PGS_COUNTER] = 3, [PGS_INTERVAL] = 10,
	[PGS_IMPORT] = 4, [PGS_RETAIN] = 1, [PGS_A_FLOW] = 12, [PGS_A_CLIENT] = 20, [PGS_A_USAGE] = 20,
	[PGS_A_NAME] = 11, [PGS_A_PORT] = 11, [PGS_A_NOTE] = 13, [PGS_A_CERT] = 14, [PGS_HOST_NAME] = 9, [PGS_LEASE] = 6,
	[PGS_ATTEMPT_GROUP] = 10,
};
