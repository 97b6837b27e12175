/// A workspace's lifecycle status. Mirrors the PostgreSQL enum `workspace_status` (a test parses the migrations and
/// fails when the two sets differ). Raw values are the database and wire spelling.
public enum WorkspaceStatus: String, CaseIterable, Sendable, Codable, Hashable {
    case provisioning
    case online
    case offline
    case degraded
    case failed
    case removed
    case paused
    case hibernated
    case awaitingAgent = "awaiting_agent"
    case hibernating
    /// A plain workload (`"agent": false`) that its provider runs: it never registers, so it is never `online`.
    case running

    /// The PostgreSQL array literal of `statuses`, for `= ANY($n::workspace_status[])` guards.
    static func arrayLiteral(_ statuses: some Sequence<WorkspaceStatus>) -> String {
        "{" + statuses.map(\.rawValue).joined(separator: ",") + "}"
    }
}
