import Foundation
import ProviderWire

/// The only statements that write a workspace's `status`, each guarded by a ``WorkspaceTransition``'s `from` set in
/// its `WHERE`. They are called only by the Host's `WorkspaceLifecycle`, which records the transition's event; a
/// source test fails when a status write appears anywhere else or when anything else calls these.
extension WorkspaceStore {
    /// Performs `transition` on `id` if its status is in the transition's guard (and, with `minimumSeconds`, has been
    /// for at least that long: the provision-timeout sweeper leaves a row that moved meanwhile alone); true when it
    /// moved. A move to `failed` stores `message` in `last_sample_error`; a move to online or provisioning clears an
    /// old one.
    public func moveStatus(
        _ id: UUID, by transition: WorkspaceTransition, message: FailureMessage? = nil, minimumSeconds: Int? = nil
    )
        async throws -> Bool
    {
        let message = transition.requiresMessage ? (message ?? FailureMessage("")) : message
        return try await pool.run { connection in
            try connection.query(
                """
                UPDATE workspaces SET status = $2::workspace_status, updated_at = now(),
                       last_sample_error = CASE WHEN $4::text IS NOT NULL THEN $4::text
                                                WHEN $2 IN ('online', 'provisioning') THEN NULL ELSE last_sample_error END
                WHERE id = $1 AND status = ANY($3::workspace_status[])
                  AND ($5::int IS NULL OR status_changed_at < now() - make_interval(secs => $5::int))
                """,
                [
                    .uuid(id), .string(transition.to.rawValue), .string(WorkspaceStatus.arrayLiteral(transition.from)), .string(message?.text),
                    .int(minimumSeconds),
                ]
            ).affected == 1
        }
    }

    /// ``WorkspaceTransition/remove``: marks `id` removed and revokes its tokens, in one transaction.
    public func removeWorkspace(_ id: UUID) async throws -> Bool {
        try await pool.transaction { connection in
            let moved =
                try connection.query(
                    """
                    UPDATE workspaces SET status = 'removed', removed_at = now(), instance_ref = NULL, updated_at = now()
                    WHERE id = $1 AND status = ANY($2::workspace_status[])
                    """,
                    [.uuid(id), .string(WorkspaceStatus.arrayLiteral(WorkspaceTransition.remove.from))]
                ).affected == 1
            try connection.query(
                "UPDATE workspace_auth_tokens SET revoked_at = now() WHERE workspace_id = $1 AND revoked_at IS NULL", [.uuid(id)]
            )
            return moved
        }
    }

    /// ``WorkspaceTransition/register``: → online with the agent's card and URL. Answers the row and the status it
    /// had; nil when unknown or removed.
    public func recordRegistration(
        _ id: UUID, url: String?, agentCard: JSONValue, deliveryMode: String?
    ) async throws -> (Workspace, WorkspaceStatus)? {
        let card = String(decoding: try WireCoding.encode(agentCard), as: UTF8.self)
        return try await pool.run { connection in
            let previous = try connection.query("SELECT status::text AS status FROM workspaces WHERE id = $1 FOR UPDATE", [.uuid(id)])
            let updated = try connection.query(
                """
                UPDATE workspaces SET status = 'online', url = coalesce(nullif($2, ''), url), agent_card = $3::jsonb,
                       delivery_mode = coalesce($4, delivery_mode), last_heartbeat_at = now(), last_sample_error = NULL,
                       updated_at = now()
                WHERE id = $1 AND status = ANY($5::workspace_status[])
                """,
                [
                    .uuid(id), .string(url), .string(card), .string(deliveryMode),
                    .string(WorkspaceStatus.arrayLiteral(WorkspaceTransition.register.from)),
                ]
            )
            guard updated.affected == 1, let before = previous.first?.string("status").flatMap(WorkspaceStatus.init(rawValue:)) else {
                return nil
            }
            let row = try connection.query("SELECT * FROM workspace_rows WHERE id = $1", [.uuid(id)])
            return (try Self.decode(row[0]), before)
        }
    }

    /// Applies a batch of heartbeats in one statement, with the heartbeat transitions of the table:
    /// ``WorkspaceTransition/heartbeatArrived``, ``WorkspaceTransition/heartbeatDegraded`` (error_rate ≥ 0.5 or
    /// wedged) and ``WorkspaceTransition/heartbeatRecovered`` (error_rate < 0.1 and not wedged) — only for beats
    /// received after the status last changed. Answers the transitions that happened.
    public func applyHeartbeatBatch(_ beats: [Heartbeat]) async throws -> [Transition] {
        guard !beats.isEmpty else { return [] }
        let batch = String(decoding: try WireCoding.encode(beats), as: UTF8.self)
        let arrived = WorkspaceTransition.heartbeatArrived
        let degraded = WorkspaceTransition.heartbeatDegraded
        let recovered = WorkspaceTransition.heartbeatRecovered
        return try await pool.run { connection in
            try connection.query(
                """
                WITH beat AS (
                    SELECT * FROM jsonb_to_recordset($1::jsonb) AS b(id uuid, error_rate float8, active_tasks int,
                        uptime_seconds bigint, current_task text, sample_error text, wedged bool, runtime_metadata jsonb,
                        received_at_ms bigint)
                ), old AS (
                    SELECT w.id, w.status, w.status_changed_at < to_timestamp(beat.received_at_ms / 1000.0) AS fresh
                    FROM workspaces w JOIN beat ON beat.id = w.id WHERE w.status <> 'removed' FOR UPDATE OF w
                )
                UPDATE workspaces w SET
                    error_rate = beat.error_rate, active_tasks = beat.active_tasks, uptime_seconds = beat.uptime_seconds,
                    current_task = beat.current_task, runtime_metadata = beat.runtime_metadata, last_heartbeat_at = now(), updated_at = now(),
                    last_sample_error = CASE WHEN coalesce(beat.sample_error, '') <> '' THEN beat.sample_error ELSE w.last_sample_error END,
                    status = CASE
                        WHEN NOT old.fresh THEN old.status
                        WHEN old.status = ANY($2::workspace_status[]) THEN $3::workspace_status
                        WHEN old.status = ANY($4::workspace_status[]) AND (beat.error_rate >= 0.5 OR beat.wedged) THEN $5::workspace_status
                        WHEN old.status = ANY($6::workspace_status[]) AND beat.error_rate < 0.1 AND NOT beat.wedged THEN $7::workspace_status
                        ELSE old.status END
                FROM beat, old
                WHERE w.id = beat.id AND old.id = beat.id
                RETURNING w.id, old.status::text AS from_status, w.status::text AS to_status
                """,
                [
                    .string(batch),
                    .string(WorkspaceStatus.arrayLiteral(arrived.from)), .string(arrived.to.rawValue),
                    .string(WorkspaceStatus.arrayLiteral(degraded.from)), .string(degraded.to.rawValue),
                    .string(WorkspaceStatus.arrayLiteral(recovered.from)), .string(recovered.to.rawValue),
                ]
            ).all.compactMap { row in
                guard let id = row.uuid("id"), let from = row.string("from_status").flatMap(WorkspaceStatus.init(rawValue:)),
                    let to = row.string("to_status").flatMap(WorkspaceStatus.init(rawValue:)), from != to
                else { return nil }
                return Transition(id: id, from: from, to: to)
            }
        }
    }
}
