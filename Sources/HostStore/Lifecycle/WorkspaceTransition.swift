/// One way a workspace's status may change: an edge of the lifecycle's one transition table.
///
/// Each transition names the statuses it may start from — the guard, written once here and passed as it is to the SQL
/// `WHERE status = ANY(…)` of the statement that performs it — the status it ends in, and the event recorded when it
/// happens. A workspace in any other status is left alone: a late or duplicated event never moves a workspace that
/// already moved on. Transitions to `failed` must carry a message (``requiresMessage``).
public struct WorkspaceTransition: Sendable, Hashable, CustomStringConvertible {
    /// The transition's name in logs and events (`restart`, `provision_failed`, …).
    public let name: String
    /// The statuses it may start from.
    public let from: Set<WorkspaceStatus>
    /// The status it ends in.
    public let to: WorkspaceStatus
    /// The event type recorded when it happens (`WORKSPACE_PAUSED`, …).
    public let event: String

    init(_ name: String, from: Set<WorkspaceStatus>, to: WorkspaceStatus, event: String) {
        self.name = name
        self.from = from
        self.to = to
        self.event = event
    }

    /// A failed workspace always says why.
    public var requiresMessage: Bool { to == .failed }

    /// Where `status` goes on this transition, or nil when the guard refuses it.
    public func next(from status: WorkspaceStatus) -> WorkspaceStatus? { from.contains(status) ? to : nil }

    public var description: String { "\(name): \(from.map(\.rawValue).sorted().joined(separator: "|")) → \(to.rawValue)" }
}

extension WorkspaceTransition {
    /// Every status but `removed`: a removed row never moves again.
    public static let live: Set<WorkspaceStatus> = Set(WorkspaceStatus.allCases).subtracting([.removed])

    /// Restart or plugin install: the old instance is replaced by a new provision.
    public static let restart = Self(
        "restart", from: [.online, .degraded, .offline, .failed, .paused, .provisioning, .hibernated, .awaitingAgent, .running],
        to: .provisioning,
        event: "WORKSPACE_RESTARTING"
    )
    /// The provider refused or failed the provision (or its provider is not loaded).
    public static let provisionFailed = Self("provision_failed", from: [.provisioning], to: .failed, event: "WORKSPACE_PROVISION_FAILED")
    /// The instance never registered within its runtime's timeout (provision-timeout sweeper).
    public static let provisionTimedOut = Self("provision_timed_out", from: [.provisioning], to: .failed, event: "WORKSPACE_PROVISION_FAILED")
    /// Recovery gave up on a provision that kept dying without an answer.
    public static let provisionAbandoned = Self("provision_abandoned", from: [.provisioning], to: .failed, event: "WORKSPACE_PROVISION_FAILED")
    /// The provider started a plain workload (`"agent": false`): it runs, and will never register.
    public static let provisionedPlain = Self("provisioned_plain", from: [.provisioning], to: .running, event: "WORKSPACE_RUNNING")
    /// The provider paused the instance.
    public static let pause = Self(
        "pause", from: [.online, .degraded, .offline, .provisioning, .awaitingAgent, .running], to: .paused, event: "WORKSPACE_PAUSED")
    /// The provider resumed the instance.
    public static let resume = Self("resume", from: [.paused, .hibernated], to: .online, event: "WORKSPACE_RESUMED")
    /// The provider resumed a plain workload.
    public static let resumePlain = Self("resume_plain", from: [.paused, .hibernated], to: .running, event: "WORKSPACE_RESUMED")
    /// Recovery found a hibernating workspace's instance stopped.
    public static let hibernationSettled = Self("hibernation_settled", from: [.hibernating], to: .hibernated, event: "WORKSPACE_HIBERNATED")
    /// The health sweeper found the instance gone.
    public static let instanceLost = Self("instance_lost", from: [.online, .degraded, .running], to: .offline, event: "WORKSPACE_OFFLINE")
    /// The health sweeper found the instance ended for a reason its provider names (a limit, a crash).
    public static let instanceFailed = Self("instance_failed", from: [.online, .degraded, .running], to: .failed, event: "WORKSPACE_FAILED")
    /// An external agent stopped heartbeating.
    public static let agentStale = Self("agent_stale", from: [.online, .degraded], to: .awaitingAgent, event: "WORKSPACE_AWAITING_AGENT")
    /// The agent registered.
    public static let register = Self("register", from: live, to: .online, event: "WORKSPACE_ONLINE")
    /// A heartbeat from a workspace that was not serving yet (or any more).
    public static let heartbeatArrived = Self(
        "heartbeat_arrived", from: [.provisioning, .offline, .awaitingAgent], to: .online, event: "WORKSPACE_ONLINE")
    /// A heartbeat reporting a high error rate or a wedged runtime.
    public static let heartbeatDegraded = Self("heartbeat_degraded", from: [.online], to: .degraded, event: "WORKSPACE_DEGRADED")
    /// A heartbeat reporting health again after degraded.
    public static let heartbeatRecovered = Self("heartbeat_recovered", from: [.degraded], to: .online, event: "WORKSPACE_ONLINE")
    /// Delete: the provider stopped the instance (or the workspace is external).
    public static let remove = Self("remove", from: live, to: .removed, event: "WORKSPACE_REMOVED")

    /// The whole table.
    public static let all: [WorkspaceTransition] = [
        restart, provisionFailed, provisionTimedOut, provisionAbandoned, provisionedPlain, pause, resume, resumePlain, hibernationSettled,
        instanceLost, instanceFailed, agentStale, register, heartbeatArrived, heartbeatDegraded, heartbeatRecovered, remove,
    ]
}
