-- The read-only role Grafana's PostgreSQL data source logs in as: SELECT on the tables the
-- scg dashboard shows and nothing else, as Grafana's documentation advises (a dashboard
-- editor can run any SQL the role may). Run as the schema's owner after `scg db migrate`,
-- with the password as a psql variable (deploy/compose.yaml's grafana-role does):
--   psql -v grafana_password="$SCG_GRAFANA_DB_PASSWORD" -f grafana-role.sql
-- Safe to run again; it also sets the password anew.
\set ON_ERROR_STOP on
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'scg_grafana') AS missing \gset
\if :missing
CREATE ROLE scg_grafana LOGIN;
\endif
ALTER ROLE scg_grafana PASSWORD :'grafana_password';
ALTER ROLE scg_grafana SET default_transaction_read_only = on;
GRANT CONNECT ON DATABASE :"DBNAME" TO scg_grafana;
GRANT USAGE ON SCHEMA public TO scg_grafana;
GRANT SELECT ON communities, indicator_snapshots, device_effective_state, gateways
    TO scg_grafana;
