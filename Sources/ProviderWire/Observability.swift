/// `logs`: the boot/console log. With `cursor`, answers what was written after it; otherwise the last `tail_lines`.
public struct LogsRequest: Sendable, Hashable, Codable {
    public var workspaceId: String
    public var tailLines: Int?
    public var cursor: String?
    public init(workspaceId: String, tailLines: Int? = nil, cursor: String? = nil) {
        self.workspaceId = workspaceId
        self.tailLines = tailLines
        self.cursor = cursor
    }
    enum CodingKeys: String, CodingKey {
        case workspaceId = "workspace_id"
        case tailLines = "tail_lines"
        case cursor
    }
}

/// `logs` response: text (invalid UTF-8 replaced) and the cursor to pass next time.
public struct LogsResponse: Sendable, Hashable, Codable {
    public var content: String
    public var cursor: String
    public init(content: String, cursor: String) {
        self.content = content
        self.cursor = cursor
    }
}

/// `list_owned`: every resource the provider created for `owner` (default: the owner in its configuration).
public struct ListOwnedRequest: Sendable, Hashable, Codable {
    public var owner: String?
    public init(owner: String? = nil) { self.owner = owner }
}

/// A resource a provider created: an instance (process group, container, EC2 instance), its storage, or a snapshot.
public struct OwnedResource: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case instance
        case storage
        case snapshot
    }
    public var workspaceId: String
    public var kind: Kind
    public var ref: String
    public var owner: String
    public var state: InstanceState?
    /// Creation time, milliseconds since the Unix epoch (for reapers' grace periods).
    public var createdAtMs: Int64
    public init(workspaceId: String, kind: Kind, ref: String, owner: String, state: InstanceState?, createdAtMs: Int64) {
        self.workspaceId = workspaceId
        self.kind = kind
        self.ref = ref
        self.owner = owner
        self.state = state
        self.createdAtMs = createdAtMs
    }
    enum CodingKeys: String, CodingKey {
        case workspaceId = "workspace_id"
        case kind, ref, owner, state
        case createdAtMs = "created_at_ms"
    }
}

/// `list_owned` response.
public struct ListOwnedResponse: Sendable, Hashable, Codable {
    public var resources: [OwnedResource]
    public init(resources: [OwnedResource]) { self.resources = resources }
}

/// One stage of `diagnose` (Molecule's `{"name","ok","duration_ms","error","detail"}`).
public struct DiagnoseStage: Sendable, Hashable, Codable {
    public var name: String
    public var ok: Bool
    public var durationMs: Int
    public var error: String?
    public var detail: String?
    public init(name: String, ok: Bool, durationMs: Int, error: String? = nil, detail: String? = nil) {
        self.name = name
        self.ok = ok
        self.durationMs = durationMs
        self.error = error
        self.detail = detail
    }
    enum CodingKeys: String, CodingKey {
        case name, ok
        case durationMs = "duration_ms"
        case error, detail
    }
}

/// `diagnose` response: stages in the order they ran; the run stops at the first failure.
public struct DiagnoseResponse: Sendable, Hashable, Codable {
    public var ok: Bool
    public var firstFailure: String?
    public var stages: [DiagnoseStage]
    public init(stages: [DiagnoseStage]) {
        self.stages = stages
        self.ok = stages.allSatisfy(\.ok)
        self.firstFailure = stages.first(where: { !$0.ok })?.name
    }
    enum CodingKeys: String, CodingKey {
        case ok
        case firstFailure = "first_failure"
        case stages
    }
}
