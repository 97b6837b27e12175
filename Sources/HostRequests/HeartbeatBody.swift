import Foundation
import ProviderWire

/// `POST /registry/heartbeat` (Molecule's names; fields Molecule sends that the Host does not keep are ignored).
public struct HeartbeatBody: ValidatedBody {
    public var workspaceId: UUID
    public var errorRate: Double?
    public var sampleError: String?
    public var activeTasks: Int?
    public var uptimeSeconds: Int?
    public var currentTask: String?
    public var runtimeState: String?
    /// What the runtime says of itself (`capabilities`, `idle_timeout_seconds`): stored as sent, bounded; an absent
    /// value clears what the last beat stored (Molecule's rule).
    public var runtimeMetadata: JSONValue?

    enum CodingKeys: String, CodingKey {
        case workspaceId = "workspace_id"
        case errorRate = "error_rate"
        case sampleError = "sample_error"
        case activeTasks = "active_tasks"
        case uptimeSeconds = "uptime_seconds"
        case currentTask = "current_task"
        case runtimeState = "runtime_state"
        case runtimeMetadata = "runtime_metadata"
    }

    /// Bounds (the columns are `int` and `bigint`; one beat outside them once wedged every flush).
    public static let maximumActiveTasks = 1_000_000
    public static let maximumUptimeSeconds = 100 * 365 * 24 * 3600
    public static let maximumTextLength = 4096
    public static let runtimeStates: Set<String> = ["", "wedged"]
    /// `runtime_metadata`, encoded, at most.
    public static let maximumRuntimeMetadataBytes = 16 << 10

    public func validate() throws(RequestError) {
        if let rate = errorRate, !(rate.isFinite && (0...1).contains(rate)) { throw .invalid("\"error_rate\" must be between 0 and 1") }
        try RequestText.checkRange(activeTasks, field: "active_tasks", 0...Self.maximumActiveTasks)
        try RequestText.checkRange(uptimeSeconds, field: "uptime_seconds", 0...Self.maximumUptimeSeconds)
        try RequestText.checkString(sampleError, field: "sample_error", maximum: Self.maximumTextLength)
        try RequestText.checkString(currentTask, field: "current_task", maximum: Self.maximumTextLength)
        if let state = runtimeState, !Self.runtimeStates.contains(state) { throw .invalid("\"runtime_state\" must be \"\" or \"wedged\"") }
        if let metadata = runtimeMetadata {
            guard metadata.objectValue != nil else { throw .invalid("\"runtime_metadata\" must be a JSON object") }
            try RequestText.checkStored(metadata, field: "runtime_metadata", maximumBytes: Self.maximumRuntimeMetadataBytes)
        }
    }
}
