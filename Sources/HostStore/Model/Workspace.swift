import Foundation
import ProviderWire

/// A workspace row, as the API shows it (Molecule's JSON field names).
public struct Workspace: Sendable, Codable, Hashable {
    public var id: UUID
    public var name: String
    public var role: String?
    public var tier: Int
    public var runtime: String
    public var provider: String
    public var instanceRef: String?
    public var status: WorkspaceStatus
    public var lastSampleError: String?
    public var url: String?
    public var agentCard: JSONValue?
    public var parentId: UUID?
    public var config: JSONValue
    public var deliveryMode: String
    public var lastHeartbeatAt: Date?
    public var activeTasks: Int
    public var uptimeSeconds: Int
    public var errorRate: Double
    public var currentTask: String?
    public var removedAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    /// Whether the workload is an agent that registers (default) or a plain command (`"agent": false`), which is
    /// `running` while its provider says so and never failed for not registering.
    public var agent: Bool = true
    /// The last heartbeat's `runtime_metadata` (capabilities, idle timeout).
    public var runtimeMetadata: JSONValue?
    /// The template the workspace was created from, and whether its files reached the files root.
    public var template: String?
    public var templateSeeded: Bool = false

    enum CodingKeys: String, CodingKey {
        case id, name, role, tier, runtime, provider
        case instanceRef = "instance_ref"
        case status
        case lastSampleError = "last_sample_error"
        case url
        case agentCard = "agent_card"
        case parentId = "parent_id"
        case config
        case deliveryMode = "delivery_mode"
        case lastHeartbeatAt = "last_heartbeat_at"
        case activeTasks = "active_tasks"
        case uptimeSeconds = "uptime_seconds"
        case errorRate = "error_rate"
        case currentTask = "current_task"
        case removedAt = "removed_at"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case agent
        case runtimeMetadata = "runtime_metadata"
        case template
    }

    /// Encodes ids as lower-case UUIDs (the wire form agents and Molecule clients use).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id.uuidString.lowercased(), forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encodeIfPresent(role, forKey: .role)
        try c.encode(tier, forKey: .tier)
        try c.encode(runtime, forKey: .runtime)
        try c.encode(provider, forKey: .provider)
        try c.encodeIfPresent(instanceRef, forKey: .instanceRef)
        try c.encode(status, forKey: .status)
        try c.encodeIfPresent(lastSampleError, forKey: .lastSampleError)
        try c.encodeIfPresent(url, forKey: .url)
        try c.encodeIfPresent(agentCard, forKey: .agentCard)
        try c.encodeIfPresent(parentId?.uuidString.lowercased(), forKey: .parentId)
        try c.encode(config, forKey: .config)
        try c.encode(deliveryMode, forKey: .deliveryMode)
        try c.encodeIfPresent(lastHeartbeatAt, forKey: .lastHeartbeatAt)
        try c.encode(activeTasks, forKey: .activeTasks)
        try c.encode(uptimeSeconds, forKey: .uptimeSeconds)
        try c.encode(errorRate, forKey: .errorRate)
        try c.encodeIfPresent(currentTask, forKey: .currentTask)
        try c.encodeIfPresent(removedAt, forKey: .removedAt)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
        try c.encode(agent, forKey: .agent)
        try c.encodeIfPresent(runtimeMetadata, forKey: .runtimeMetadata)
        try c.encodeIfPresent(template, forKey: .template)
    }

    /// `runtime: external` workspaces have no instance: the agent runs elsewhere and only registers and heartbeats.
    public var isExternal: Bool { runtime == "external" }
}
