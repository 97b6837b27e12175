-- Plain workloads (`"agent": false`) run without registering: they have their own status, `running`, and are never
-- failed for not registering.
ALTER TYPE workspace_status ADD VALUE IF NOT EXISTS 'running';

-- agent: whether the workload is an agent that registers (the default) or a plain command.
-- runtime_metadata: the last heartbeat's `runtime_metadata` (capabilities, idle timeout), bounded by the Host.
-- template: the template the workspace was created from; template_seeded: its files reached the files root.
ALTER TABLE workspaces
    ADD COLUMN agent boolean NOT NULL DEFAULT true,
    ADD COLUMN runtime_metadata jsonb,
    ADD COLUMN template text,
    ADD COLUMN template_seeded boolean NOT NULL DEFAULT false;

CREATE OR REPLACE VIEW workspace_rows AS
SELECT id, name, role, tier, runtime, provider, instance_ref, status::text AS status, last_sample_error, url,
       agent_card::text AS agent_card, parent_id, config::text AS config, delivery_mode,
       extract(epoch FROM last_heartbeat_at)::text AS last_heartbeat_at, active_tasks, uptime_seconds, error_rate,
       current_task, extract(epoch FROM removed_at)::text AS removed_at, extract(epoch FROM created_at)::text AS created_at,
       extract(epoch FROM updated_at)::text AS updated_at, agent, runtime_metadata::text AS runtime_metadata, template,
       template_seeded
FROM workspaces;
