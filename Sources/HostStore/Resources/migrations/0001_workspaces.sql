-- Molecule Host schema, version 1.
-- The status enum is mirrored by WorkspaceStatus in Swift; a test parses this file and fails when the sets differ.
CREATE TYPE workspace_status AS ENUM (
    'provisioning', 'online', 'offline', 'degraded', 'failed', 'removed',
    'paused', 'hibernated', 'awaiting_agent', 'hibernating'
);

CREATE TABLE workspaces (
    id                      uuid PRIMARY KEY,
    name                    text NOT NULL,
    role                    text,
    tier                    integer NOT NULL DEFAULT 3,
    runtime                 text NOT NULL DEFAULT 'default',
    provider                text NOT NULL,
    instance_ref            text,
    status                  workspace_status NOT NULL DEFAULT 'provisioning',
    last_sample_error       text,
    url                     text,
    agent_card              jsonb,
    parent_id               uuid REFERENCES workspaces (id),
    config                  jsonb NOT NULL DEFAULT '{}'::jsonb,
    delivery_mode           text NOT NULL DEFAULT 'push' CHECK (delivery_mode IN ('push', 'poll')),
    last_heartbeat_at       timestamptz,
    active_tasks            integer NOT NULL DEFAULT 0,
    uptime_seconds          bigint NOT NULL DEFAULT 0,
    error_rate              double precision NOT NULL DEFAULT 0,
    current_task            text,
    platform_inbound_secret text,
    removed_at              timestamptz,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    -- A failed workspace always says why (Molecule shipped rows that did not).
    CONSTRAINT failed_has_message CHECK (status <> 'failed' OR coalesce(last_sample_error, '') <> '')
);

-- List queries and sweepers.
CREATE INDEX workspaces_created_idx ON workspaces (created_at DESC);
CREATE INDEX workspaces_status_updated_idx ON workspaces (status, updated_at);
CREATE INDEX workspaces_provider_status_idx ON workspaces (provider, status);
CREATE INDEX workspaces_parent_idx ON workspaces (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX workspaces_external_heartbeat_idx ON workspaces (last_heartbeat_at) WHERE runtime = 'external';

CREATE TABLE workspace_auth_tokens (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    token_hash    bytea NOT NULL UNIQUE,   -- sha256 of the token; the token itself is never stored
    prefix        text NOT NULL,           -- first 8 characters, for operators
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX workspace_auth_tokens_live_idx ON workspace_auth_tokens (workspace_id) WHERE revoked_at IS NULL;

CREATE TABLE structure_events (
    id            bigserial PRIMARY KEY,
    event_type    text NOT NULL,
    workspace_id  uuid,
    payload       jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX structure_events_workspace_idx ON structure_events (workspace_id, id);
CREATE INDEX structure_events_created_idx ON structure_events (created_at);

-- Rows as the Host reads them: timestamps as epoch seconds (text), so the Swift side needs no date parsing.
CREATE VIEW workspace_rows AS
SELECT id, name, role, tier, runtime, provider, instance_ref, status::text AS status, last_sample_error, url,
       agent_card::text AS agent_card, parent_id, config::text AS config, delivery_mode,
       extract(epoch FROM last_heartbeat_at)::text AS last_heartbeat_at, active_tasks, uptime_seconds, error_rate,
       current_task, extract(epoch FROM removed_at)::text AS removed_at, extract(epoch FROM created_at)::text AS created_at,
       extract(epoch FROM updated_at)::text AS updated_at
FROM workspaces;
