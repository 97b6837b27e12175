import Foundation

/// `provision` and `restore`: create and start a workspace instance.
///
/// Provisioning is idempotent per `workspace_id`: provisioning a workspace whose instance is already running answers
/// that instance rather than starting a second one.
public struct ProvisionRequest: Sendable, Hashable, Codable {
    public var workspaceId: String
    public var name: String?
    public var runtime: String?
    public var tier: Int?
    /// Image, AMI or other artefact to run; providers fall back to their configured default.
    public var image: String?
    /// The workspace's command (argv); providers fall back to their configured default.
    public var command: [String]?
    public var env: [String: String]
    /// The workspace's registry token, written where the agent reads it (`/configs/.auth_token`).
    public var token: String?
    /// Where the agent reaches the Host (`PLATFORM_URL`).
    public var platformUrl: String?
    /// Required for `restore`: the snapshot whose storage seeds the new workspace.
    public var snapshotId: String?
    /// Provider-specific options, passed through untouched.
    public var options: JSONValue?
    /// Files to put in the files root before the command first starts (a workspace template): a base64 tar of paths
    /// relative to the files root. A provider that writes them answers ``ProvisionResponse/seeded``; the Host refuses
    /// an answer without it, so a provider that ignores the field can never start a workspace without its template.
    public var seedArchive: String?

    public init(
        workspaceId: String,
        name: String? = nil,
        runtime: String? = nil,
        tier: Int? = nil,
        image: String? = nil,
        command: [String]? = nil,
        env: [String: String] = [:],
        token: String? = nil,
        platformUrl: String? = nil,
        snapshotId: String? = nil,
        options: JSONValue? = nil,
        seedArchive: String? = nil
    ) {
        self.workspaceId = workspaceId
        self.name = name
        self.runtime = runtime
        self.tier = tier
        self.image = image
        self.command = command
        self.env = env
        self.token = token
        self.platformUrl = platformUrl
        self.snapshotId = snapshotId
        self.options = options
        self.seedArchive = seedArchive
    }

    enum CodingKeys: String, CodingKey {
        case workspaceId = "workspace_id"
        case name, runtime, tier, image, command, env, token
        case platformUrl = "platform_url"
        case snapshotId = "snapshot_id"
        case options
        case seedArchive = "seed_archive"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        workspaceId = try c.decode(String.self, forKey: .workspaceId)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        runtime = try c.decodeIfPresent(String.self, forKey: .runtime)
        tier = try c.decodeIfPresent(Int.self, forKey: .tier)
        image = try c.decodeIfPresent(String.self, forKey: .image)
        command = try c.decodeIfPresent([String].self, forKey: .command)
        env = try c.decodeIfPresent([String: String].self, forKey: .env) ?? [:]
        token = try c.decodeIfPresent(String.self, forKey: .token)
        platformUrl = try c.decodeIfPresent(String.self, forKey: .platformUrl)
        snapshotId = try c.decodeIfPresent(String.self, forKey: .snapshotId)
        options = try c.decodeIfPresent(JSONValue.self, forKey: .options)
        seedArchive = try c.decodeIfPresent(String.self, forKey: .seedArchive)
    }

    /// The seed archive's entries (INVALID_ARGUMENT when it is not base64 or not a safe tar).
    public func seedEntries() throws(ProviderError) -> [TarArchive.Entry]? {
        guard let seedArchive else { return nil }
        guard let bytes = Data(base64Encoded: seedArchive) else { throw .invalidArgument("seed_archive is not valid base64") }
        return try TarArchive(parsing: [UInt8](bytes)).entries
    }
}

/// The state of a workspace's instance as the backend sees it.
public enum InstanceState: String, Sendable, Hashable, Codable, CaseIterable {
    case starting
    case running
    case paused
    case stopped
    case absent
}

/// `provision`, `restore`: what was started.
public struct ProvisionResponse: Sendable, Hashable, Codable {
    /// The backend's own id for the instance (process group, container id, EC2 instance id).
    public var instanceRef: String
    public var state: InstanceState
    public var address: String?
    /// True when the request's ``ProvisionRequest/seedArchive`` is in the files root (absent: the provider did not
    /// write one — the Host fails a provision that carried a seed and got no `seeded: true`).
    public var seeded: Bool?
    public init(instanceRef: String, state: InstanceState, address: String? = nil, seeded: Bool? = nil) {
        self.instanceRef = instanceRef
        self.state = state
        self.address = address
        self.seeded = seeded
    }
    enum CodingKeys: String, CodingKey {
        case instanceRef = "instance_ref"
        case state, address, seeded
    }
}

/// `inspect`, `pause`, `resume`: the instance's state. An unknown workspace inspects as `absent`.
public struct InspectResponse: Sendable, Hashable, Codable {
    public var state: InstanceState
    public var instanceRef: String?
    public var address: String?
    /// Why a started instance is no longer running when starting it again would end the same way — a limit the
    /// backend enforced (`memory limit 512 MiB exceeded`): the Host fails the workspace with it.
    public var failure: String?
    /// How a started instance that nobody stopped ended (`the workload exited with status 3`), when no ``failure``
    /// explains it: the Host marks the workspace offline and keeps this as its reason.
    public var ended: String?
    public init(state: InstanceState, instanceRef: String? = nil, address: String? = nil, failure: String? = nil, ended: String? = nil) {
        self.state = state
        self.instanceRef = instanceRef
        self.address = address
        self.failure = failure
        self.ended = ended
    }
    enum CodingKeys: String, CodingKey {
        case state
        case instanceRef = "instance_ref"
        case address, failure, ended
    }
}

/// `stop`: whether an instance was running. Stopping an unknown or stopped workspace succeeds with `false`.
public struct StopResponse: Sendable, Hashable, Codable {
    public var stopped: Bool
    public init(stopped: Bool) { self.stopped = stopped }
}

/// `snapshot`: the id that `restore` takes.
public struct SnapshotResponse: Sendable, Hashable, Codable {
    public var snapshotId: String
    public init(snapshotId: String) { self.snapshotId = snapshotId }
    enum CodingKeys: String, CodingKey { case snapshotId = "snapshot_id" }
}

/// `remove_storage`: whether anything was removed. Unknown workspace succeeds with `false`.
public struct RemoveStorageResponse: Sendable, Hashable, Codable {
    public var removed: Bool
    public init(removed: Bool) { self.removed = removed }
}
