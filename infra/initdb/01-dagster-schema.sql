-- Dagster's run, event-log and schedule storage live in their own schema of the factory's
-- database (DAGSTER_PG_URL sets search_path=dagster); `data-factory serve` creates it the same way.
create schema if not exists dagster;
