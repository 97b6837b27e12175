import Foundation
import ProviderWire

/// What the provider records about one workspace (`workspace.json`): who owns it and whether its instance is up.
///
/// The directory backend runs nothing: an instance is the record saying so. Each start bumps ``generation``, so every
/// instance of a workspace has its own ``instanceRef`` and a second provision of a running one answers the same.
struct WorkspaceRecord: Codable, Sendable {
    /// The lifecycle of the workspace's instance.
    enum State: String, Codable, Sendable {
        case running
        case paused
        case stopped
    }

    var workspaceId: String
    var owner: String
    var createdAtMs: Int64
    var state: State = .stopped
    var generation = 0

    init(workspaceId: String, owner: String) {
        self.workspaceId = workspaceId
        self.owner = owner
        self.createdAtMs = Self.nowMs()
    }

    /// Whether an instance exists (running or paused).
    var hasInstance: Bool { state != .stopped }

    /// The instance's reference, as `provision`, `inspect` and `list_owned` answer it.
    var instanceRef: String { "directory:\(workspaceId):\(generation)" }

    /// The state on the wire.
    var instanceState: InstanceState {
        switch state {
        case .running: .running
        case .paused: .paused
        case .stopped: .stopped
        }
    }

    /// Milliseconds since the epoch.
    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
