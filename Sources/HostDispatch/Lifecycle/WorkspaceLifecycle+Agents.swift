import Foundation
import HostStore
import ProviderWire

extension WorkspaceLifecycle {
    // MARK: Agents

    /// ``WorkspaceTransition/register``: the agent registered with its card. Answers the row and its status before,
    /// nil when the row is unknown or removed.
    public func register(_ id: UUID, url: String?, agentCard: JSONValue, deliveryMode: String?) async throws -> (Workspace, WorkspaceStatus)? {
        guard let (workspace, before) = try await store.recordRegistration(id, url: url, agentCard: agentCard, deliveryMode: deliveryMode) else {
            return nil
        }
        if before != .online { await emit(.register, id, ["from": .string(before.rawValue)]) }
        return (workspace, before)
    }

    /// Writes a batch of coalesced heartbeats in one statement and records the transitions they caused
    /// (``WorkspaceTransition/heartbeatArrived``, ``WorkspaceTransition/heartbeatDegraded``,
    /// ``WorkspaceTransition/heartbeatRecovered``).
    public func applyHeartbeats(_ beats: [WorkspaceStore.Heartbeat]) async throws {
        for change in try await store.applyHeartbeatBatch(beats) {
            let transition: WorkspaceTransition =
                switch (change.from, change.to) {
                case (_, .degraded): .heartbeatDegraded
                case (.degraded, _): .heartbeatRecovered
                default: .heartbeatArrived
                }
            await emit(transition, change.id, ["from": .string(change.from.rawValue), "source": "heartbeat"])
        }
    }
}
