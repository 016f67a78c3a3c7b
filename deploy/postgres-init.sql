-- Run once by the postgres image, on first start with an empty data volume, as POSTGRES_USER
-- (soleflipper, a superuser, so it owns these databases). docker-compose.yml sets POSTGRES_DB to
-- `postgres` so none of these exists yet. The names must match the URLs in docker-compose.yml
-- (tests/unit/test_deploy_config.py checks that).
CREATE DATABASE soleflipper;          -- the warehouse (SOLEFLIPPER_DATABASE_URL)
CREATE DATABASE soleflipper_dagster;  -- Dagster run/event/schedule storage
CREATE DATABASE metabase;             -- Metabase's application database
