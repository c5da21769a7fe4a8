-- yujing PostgreSQL schema, version 1: warnings (JSONB + indexed columns), registry versions + audit,
-- bounded rejections with per-reason totals, latest risk per (kind, id), key/value settings.
-- Tables are created unqualified: the runner sets search_path to the configured schema.

CREATE TABLE warnings (
  id            text PRIMARY KEY,
  dedup_key     text NOT NULL,
  status        text NOT NULL,
  level         smallint NOT NULL,
  region_id     text NOT NULL,
  enterprise_id text NOT NULL,
  sensor_id     text,
  raised_at     bigint NOT NULL,
  updated_at    bigint NOT NULL,
  closed_at     bigint,
  doc           jsonb NOT NULL
);
CREATE INDEX warnings_open_order ON warnings (level, raised_at DESC, id) WHERE status <> 'closed';
CREATE INDEX warnings_status_order ON warnings (status, level, raised_at DESC);
CREATE INDEX warnings_dedup ON warnings (dedup_key, status, closed_at);
CREATE INDEX warnings_region ON warnings (region_id, status);
CREATE INDEX warnings_enterprise ON warnings (enterprise_id, status);
CREATE INDEX warnings_sensor ON warnings (sensor_id) WHERE sensor_id IS NOT NULL;
CREATE INDEX warnings_updated ON warnings (updated_at);

CREATE TABLE registry_versions (
  version  integer PRIMARY KEY,
  doc      jsonb NOT NULL,
  saved_at bigint NOT NULL
);
CREATE TABLE audit (
  seq    bigserial PRIMARY KEY,
  at     bigint NOT NULL,
  "by"   text NOT NULL,
  action text NOT NULL,
  target text NOT NULL,
  detail text
);

-- doc is the JSON text, not jsonb: raw payloads may hold \u0000 or lone surrogates, which jsonb refuses.
CREATE TABLE rejections (
  seq           bigserial PRIMARY KEY,
  id            text NOT NULL UNIQUE,
  at            bigint NOT NULL,
  reason        text NOT NULL,
  gateway_id    text,
  enterprise_id text,
  doc           text NOT NULL
);
CREATE INDEX rejections_at ON rejections (at DESC, seq DESC);
CREATE TABLE rejection_counts (reason text PRIMARY KEY, n bigint NOT NULL);

CREATE TABLE risk (
  kind text NOT NULL,
  id   text NOT NULL,
  doc  jsonb NOT NULL,
  PRIMARY KEY (kind, id)
);

CREATE TABLE kv (key text PRIMARY KEY, value text NOT NULL);
