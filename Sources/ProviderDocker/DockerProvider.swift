import Foundation
import ProviderABI
import ProviderHTTP
import ProviderKit
import ProviderWire
import Synchronization

/// Workspaces as Docker containers, through the Engine API on its unix socket (libcurl; no `docker` CLI).
///
/// Naming and ownership: container `ws-<first 12 of id>`, configs volume `ws-<first 12>-configs` mounted at
/// `/configs`, labels `molecule.workspace_id`, `molecule.owner`, `molecule.managed=true` on every container, volume
/// and snapshot image. `stop` removes the container and keeps the volume; `remove_storage` deletes the volume.
final class DockerProvider: WorkspaceProvider, Sendable {
    static let name = "docker"
    static let version = "1.0.0"
    static let features: [ProviderFeature] = [.seedArchive]
    static let summary = "Workspaces as Docker containers (Engine API over the unix socket)"

    struct Config: Decodable, Sendable {
        var socket: String
        var owner: String
        var image: String?
        var networkMode: String
        var restartPolicy: String
        /// Memory (MiB) and CPUs per tier ("1"…"4"); absent = no limit.
        var tiers: [String: Tier]
        var pullTimeoutMs: Int
        var stopTimeoutSeconds: Int
        var pluginUid: Int

        struct Tier: Decodable, Sendable {
            var memoryMb: Int?
            var cpus: Double?
            enum CodingKeys: String, CodingKey {
                case memoryMb = "memory_mb"
                case cpus
            }
        }

        enum CodingKeys: String, CodingKey {
            case socket, owner, image
            case networkMode = "network_mode"
            case restartPolicy = "restart_policy"
            case tiers
            case pullTimeoutMs = "pull_timeout_ms"
            case stopTimeoutSeconds = "stop_timeout_seconds"
            case pluginUid = "plugin_uid"
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let raw =
                try c.decodeIfPresent(String.self, forKey: .socket) ?? ProcessInfo.processInfo.environment["DOCKER_HOST"] ?? "/var/run/docker.sock"
            socket = raw.hasPrefix("unix://") ? String(raw.dropFirst("unix://".count)) : raw
            guard socket.hasPrefix("/") else {
                throw ProviderError.invalidArgument("docker configuration: socket \"\(raw)\" must be a unix socket path (unix:///path)")
            }
            owner = try c.decodeIfPresent(String.self, forKey: .owner) ?? "default"
            image = try c.decodeIfPresent(String.self, forKey: .image)
            networkMode = try c.decodeIfPresent(String.self, forKey: .networkMode) ?? "bridge"
            restartPolicy = try c.decodeIfPresent(String.self, forKey: .restartPolicy) ?? "unless-stopped"
            tiers = try c.decodeIfPresent([String: Tier].self, forKey: .tiers) ?? [:]
            pullTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .pullTimeoutMs) ?? 120_000
            stopTimeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .stopTimeoutSeconds) ?? 5
            pluginUid = try c.decodeIfPresent(Int.self, forKey: .pluginUid) ?? 1000
        }
    }

    let config: Config
    let engine: DockerEngine
    /// Pinned images already confirmed present (they cannot change under the same reference).
    let presentImages = Mutex<Set<String>>([])
    /// Open terminal sessions (ended by `stop`).
    let sessions = SessionTable()

    init(configuration: ProviderConfiguration) throws {
        config = try configuration.decode(Config.self, provider: Self.name)
        engine = DockerEngine(socketPath: config.socket)
    }

    // MARK: Names and labels

    static func shortId(_ workspaceId: String) throws(ProviderError) -> String {
        try Identifier.validateWorkspaceId(workspaceId)
        let cleaned = workspaceId.lowercased()
        // Molecule's naming for UUIDs (ws-<first 12 hex>); any other id keeps all its characters so names never collide.
        if UUID(uuidString: cleaned) != nil { return String(cleaned.replacingOccurrences(of: "-", with: "").prefix(12)) }
        return cleaned
    }

    /// The port the agent listens on in a container (each container has its own port space).
    static let agentPort = 8000

    func containerName(_ workspaceId: String) throws(ProviderError) -> String { "ws-\(try Self.shortId(workspaceId))" }
    func volumeName(_ workspaceId: String) throws(ProviderError) -> String { "ws-\(try Self.shortId(workspaceId))-configs" }

    func labels(_ workspaceId: String) -> [String: String] {
        ["molecule.workspace_id": workspaceId, "molecule.owner": config.owner, "molecule.managed": "true"]
    }

    // MARK: Core verbs

    func describe(context: CallContext) throws -> DescribeResponse {
        try engine.check(try engine.request("GET", "/_ping", context: context), "ping")
        let version = try engine.check(try engine.request("GET", "/version", context: context), "version").json
        let detail = "socket=\(config.socket) engine=\(version?["Version"]?.stringValue ?? "?") api=\(version?["ApiVersion"]?.stringValue ?? "?")"
        return DescribeResponse(name: Self.name, version: Self.version, backend: detail)
    }

    /// The container's inspect document, or nil when there is none.
    func inspectContainer(_ workspaceId: String, context: CallContext) throws -> JSONValue? {
        let reply = try engine.request("GET", "/containers/\(try containerName(workspaceId))/json", context: context)
        if reply.status == 404 { return nil }
        return try engine.check(reply, "inspect container").json
    }

    static func state(of container: JSONValue) -> InstanceState {
        switch container["State"]?["Status"]?.stringValue {
        case "running": .running
        case "paused": .paused
        case "created", "restarting": .starting
        default: .stopped
        }
    }

    func address(of container: JSONValue) -> String? {
        if config.networkMode == "host" { return "127.0.0.1" }
        guard case .object(let networks)? = container["NetworkSettings"]?["Networks"] else { return nil }
        return networks.values.compactMap { $0["IPAddress"]?.stringValue }.first { !$0.isEmpty }
    }

    func provision(_ request: ProvisionRequest, context: CallContext) throws -> ProvisionResponse {
        let existing = try inspectContainer(request.workspaceId, context: context)
        if let existing, existing["Config"]?["Labels"]?["molecule.workspace_id"]?.stringValue == request.workspaceId,
            Self.state(of: existing) == .running || Self.state(of: existing) == .paused
        {
            // Idempotent: the running container is the answer, and it gets the token this request carries.
            if let token = request.token { try writeToken(token, container: try containerName(request.workspaceId), context: context) }
            return ProvisionResponse(instanceRef: existing["Id"]?.stringValue ?? "", state: Self.state(of: existing), address: address(of: existing))
        }
        return try start(
            request, image: try resolveImage(request, context: context), seed: nil, knownAbsent: existing == nil, context: context
        )
    }

    /// Creates the volume and container (removing a stale same-name container first), writes the token, starts.
    /// `seed` is a tar of `configs/…` entries copied into the volume before start (restore).
    func start(
        _ request: ProvisionRequest, image: String, seed: [UInt8]?, knownAbsent: Bool = false, context: CallContext
    ) throws -> ProvisionResponse {
        let name = try containerName(request.workspaceId)
        let volume = try volumeName(request.workspaceId)
        if !knownAbsent {
            if let existing = try inspectContainer(request.workspaceId, context: context),
                let owner = existing["Config"]?["Labels"]?["molecule.workspace_id"]?.stringValue, owner != request.workspaceId
            {
                throw ProviderError.conflict("container \(name) belongs to workspace \(owner); refusing to replace it")
            }
            try engine.check(
                try engine.request("DELETE", "/containers/\(name)?force=true&v=false", context: context), "remove stale container \(name)",
                accept: [404, 409]
            )
        }
        let volumeBody: JSONValue = ["Name": .string(volume), "Labels": .object(labels(request.workspaceId).mapValues(JSONValue.string))]
        try engine.check(
            try engine.request("POST", "/volumes/create", body: WireCoding.encode(volumeBody), context: context), "create volume \(volume)")
        // The container's own address and port space: its hostname (the container name, which its networks resolve)
        // and the agent port every container shares.
        let network = AgentEnvironment.Network(address: config.networkMode == "host" ? "127.0.0.1" : name, port: Self.agentPort)
        let env = AgentEnvironment(request: request).variables(filesRoot: "/configs", network: network)
        var host: [String: JSONValue] = [
            "Binds": [.string("\(volume):/configs")], "NetworkMode": .string(config.networkMode),
            "RestartPolicy": ["Name": .string(config.restartPolicy)],
        ]
        if let tier = request.tier.flatMap({ config.tiers[String($0)] }) {
            if let memory = tier.memoryMb { host["Memory"] = .number(Double(memory) * 1_048_576) }
            if let cpus = tier.cpus { host["NanoCpus"] = .number((cpus * 1e9).rounded()) }
        }
        var body: [String: JSONValue] = [
            "Image": .string(image), "Env": .array(env.sorted { $0.key < $1.key }.map { .string("\($0.key)=\($0.value)") }),
            "Labels": .object(labels(request.workspaceId).mapValues(JSONValue.string)), "HostConfig": .object(host),
            "WorkingDir": "/configs",
        ]
        // Its own hostname, the address it advertises (the engine refuses a hostname with host networking).
        if config.networkMode != "host" { body["Hostname"] = .string(name) }
        if let command = request.command { body["Cmd"] = .array(command.map(JSONValue.string)) }
        // The create is never cut off by the caller's deadline: the engine goes on with a create whose answer was
        // abandoned, and the container would appear after any rollback. It has a bound of its own (a detached
        // context's), and the caller's cancellation is honoured as soon as it answers.
        let created = try engine.check(
            try engine.request(
                "POST", "/containers/create?name=\(name)", body: WireCoding.encode(JSONValue.object(body)), context: context.detached()),
            "create container \(name)"
        )
        do {
            try context.checkDeadline("creating container \(name)")
            return try finishStart(request, name: name, id: created.json?["Id"]?.stringValue ?? name, seed: seed, context: context)
        } catch {
            // A provision that fails (or is cancelled) once the container exists removes it: no instance may outlive
            // the error that reports it. The volume stays, as stop keeps it.
            _ = try? engine.request("DELETE", "/containers/\(name)?force=true&v=false", context: context.detached())
            throw error
        }
    }

    /// The rest of ``start(_:image:seed:knownAbsent:context:)`` once the container exists: files, token, start.
    private func finishStart(_ request: ProvisionRequest, name: String, id: String, seed: [UInt8]?, context: CallContext) throws -> ProvisionResponse
    {
        if let seed { try putArchive(name, path: "/", tar: seed, context: context) }
        // A template's files, under the volume's mount point, before the command first runs.
        let template = try request.seedEntries()
        if let template {
            let entries = try template.map { entry throws(ProviderError) in
                var moved = entry
                moved.path = try RelativePath("configs/" + entry.path.string)
                return moved
            }
            try putArchive(name, path: "/", tar: TarArchive(entries: entries).serialized(), context: context)
        }
        if let token = request.token { try writeToken(token, container: name, context: context) }
        try engine.check(try engine.request("POST", "/containers/\(name)/start", context: context), "start container \(name)", accept: [304])
        HostServices.current?.emitEvent(type: "instance.started", workspaceId: request.workspaceId, detail: ["ref": id])
        // With host networking the address is known; otherwise ask the engine for the container's IP.
        let seeded: Bool? = template == nil ? nil : true
        if config.networkMode == "host" { return ProvisionResponse(instanceRef: id, state: .running, address: "127.0.0.1", seeded: seeded) }
        let inspected = try inspectContainer(request.workspaceId, context: context)
        return ProvisionResponse(
            instanceRef: id, state: inspected.map(Self.state(of:)) ?? .starting, address: inspected.flatMap(address(of:)), seeded: seeded)
    }

    /// The image to run: the request's, else the configured one. Moving tags are re-pulled; a failed pull falls back
    /// to the cached image (with a warning); an image that is neither pullable nor cached is INVALID_ARGUMENT.
    func resolveImage(_ request: ProvisionRequest, context: CallContext) throws -> String {
        guard let image = request.image ?? config.image else {
            throw ProviderError.invalidArgument("no image: set \"image\" in the provider configuration or the workspace config")
        }
        if !ImageReference(image).isMoving, presentImages.withLock({ $0.contains(image) }) { return image }
        let cached = try engine.request("GET", "/images/\(image.queryEscaped)/json", context: context).status == 200
        if cached && !ImageReference(image).isMoving { presentImages.withLock { _ = $0.insert(image) } }
        if ImageReference(image).isMoving || !cached {
            let reference = ImageReference(image)
            let pull = try engine.request(
                "POST", "/images/create?fromImage=\(reference.repository.queryEscaped)&tag=\(reference.tag.queryEscaped)", context: context,
                timeoutMs: config.pullTimeoutMs
            )
            // The pull streams JSON progress objects; a failure is one with an "error" (or "errorDetail") field even
            // with status 200.
            let failed = !(200..<300).contains(pull.status) || Self.pullError(in: pull.body) != nil
            if failed {
                if cached {
                    context.log(.warning, "pull of \(image) failed; using the cached image")
                } else {
                    let reason = Self.pullError(in: pull.body) ?? pull.message
                    throw ProviderError.invalidArgument("image \(image) is not available locally and could not be pulled: \(reason)")
                }
            }
        }
        return image
    }

    /// The first error a pull's progress stream reports (`{"error": …}` or `{"errorDetail": {"message": …}}`), if any.
    static func pullError(in body: [UInt8]) -> String? {
        for line in body.split(separator: UInt8(ascii: "\n")) {
            guard let object = try? WireCoding.decode(JSONValue.self, from: Array(line)) else { continue }
            if let error = object["error"]?.stringValue ?? object["errorDetail"]?["message"]?.stringValue { return error }
        }
        return nil
    }

    func stop(_ request: WorkspaceRef, context: CallContext) throws -> StopResponse {
        let name = try containerName(request.workspaceId)
        sessions.closeAll(workspaceId: request.workspaceId)
        let existed = try inspectContainer(request.workspaceId, context: context)
        let reply = try engine.request("DELETE", "/containers/\(name)?force=true&v=false", context: context)
        // Idempotent: no such container is success.
        if reply.status == 404 { return StopResponse(stopped: false) }
        // A forced removal conflicts only with another removal of the same container: once that one has removed it,
        // this stop succeeds too (it did not stop anything itself). Decided by the status and the container's
        // disappearance, never by the engine's message text.
        if reply.status == 409 {
            let gone = try Poll.until(
                context, limit: MonotonicClock.deadline(afterMilliseconds: config.stopTimeoutSeconds * 1000 + 10_000),
                initialDelay: .milliseconds(20), maxDelay: .milliseconds(500)
            ) { () throws(ProviderError) -> Bool? in
                try engine.request("GET", "/containers/\(name)/json", context: context).status == 404 ? true : nil
            }
            if gone == true { return StopResponse(stopped: false) }
        }
        try engine.check(reply, "remove container \(name)")
        return StopResponse(stopped: existed.map { Self.state(of: $0) != .stopped } ?? false)
    }

    func inspect(_ request: WorkspaceRef, context: CallContext) throws -> InspectResponse {
        guard let container = try inspectContainer(request.workspaceId, context: context) else { return InspectResponse(state: .absent) }
        return InspectResponse(state: Self.state(of: container), instanceRef: container["Id"]?.stringValue, address: address(of: container))
    }

    func listOwned(_ request: ListOwnedRequest, context: CallContext) throws -> ListOwnedResponse {
        let owner = request.owner ?? config.owner
        // One label filter, and every label checked again on what comes back: the Engine API ANDs several label
        // filters, but engines differ there (Podman's compat layer ORs them for volumes before 4.6 and joins them into
        // one for images before 4.5), and a filter is only ever a narrowing, never the decision.
        let filters = String(decoding: try WireCoding.encode(["label": ["molecule.owner=\(owner)"]]), as: UTF8.self).queryEscaped
        /// The workspace of a listed item that is this owner's and managed by Molecule, else nil.
        func ownedWorkspace(_ item: JSONValue) -> String? {
            guard item["Labels"]?["molecule.owner"]?.stringValue == owner, item["Labels"]?["molecule.managed"]?.stringValue == "true" else {
                return nil
            }
            return item["Labels"]?["molecule.workspace_id"]?.stringValue
        }
        var resources: [OwnedResource] = []
        let containers = try engine.check(
            try engine.request("GET", "/containers/json?all=true&filters=\(filters)", context: context), "list containers")
        if case .array(let items)? = containers.json {
            for item in items {
                guard let workspace = ownedWorkspace(item) else { continue }
                let state: InstanceState =
                    switch item["State"]?.stringValue {
                    case "running": .running
                    case "paused": .paused
                    case "created", "restarting": .starting
                    default: .stopped
                    }
                let created = Int64((item["Created"]?.numberValue ?? 0) * 1000)
                resources.append(
                    .init(
                        workspaceId: workspace, kind: .instance, ref: item["Id"]?.stringValue ?? "", owner: owner, state: state, createdAtMs: created)
                )
            }
        }
        let volumes = try engine.check(try engine.request("GET", "/volumes?filters=\(filters)", context: context), "list volumes")
        if case .array(let items)? = volumes.json?["Volumes"] {
            for item in items {
                guard let workspace = ownedWorkspace(item) else { continue }
                let created =
                    item["CreatedAt"]?.stringValue.flatMap { ISO8601DateFormatter().date(from: $0) }.map { Int64($0.timeIntervalSince1970 * 1000) }
                    ?? 0
                resources.append(
                    .init(
                        workspaceId: workspace, kind: .storage, ref: item["Name"]?.stringValue ?? "", owner: owner, state: nil, createdAtMs: created))
            }
        }
        let images = try engine.check(try engine.request("GET", "/images/json?filters=\(filters)", context: context), "list images")
        if case .array(let items)? = images.json {
            for item in items {
                guard let workspace = ownedWorkspace(item), let snapshot = item["Labels"]?["molecule.snapshot_id"]?.stringValue
                else { continue }
                let created = Int64((item["Created"]?.numberValue ?? 0) * 1000)
                resources.append(.init(workspaceId: workspace, kind: .snapshot, ref: snapshot, owner: owner, state: nil, createdAtMs: created))
            }
        }
        return ListOwnedResponse(resources: resources)
    }

    /// Writes the workspace's token to `/configs/.auth_token` (0600, owned by the agent's uid).
    func writeToken(_ token: String, container: String, context: CallContext) throws {
        let file = TarArchive(entries: [
            .init(
                path: try RelativePath("configs/" + AgentEnvironment.tokenFileName), kind: .file, mode: 0o600, contents: Array(token.utf8),
                uid: config.pluginUid,
                gid: config.pluginUid)
        ])
        try putArchive(container, path: "/", tar: file.serialized(), context: context)
    }

    /// Copies a tar into the container's filesystem at `path` (works on created, running, paused and stopped
    /// containers, volumes included). Ownership in the tar headers is kept.
    func putArchive(_ container: String, path: String, tar: [UInt8], context: CallContext) throws {
        try engine.check(
            try engine.request(
                "PUT", "/containers/\(container)/archive?path=\(path.queryEscaped)&copyUIDGID=true", body: tar, contentType: "application/x-tar",
                context: context),
            "copy into \(container):\(path)"
        )
    }
}

/// `repository[:tag]` or `repository@digest`, and whether the tag moves (and so must be re-pulled).
struct ImageReference {
    let repository: String
    let tag: String
    let isDigest: Bool

    init(_ image: String) {
        if let at = image.firstIndex(of: "@") {
            repository = String(image[..<at])
            tag = String(image[image.index(after: at)...])
            isDigest = true
            return
        }
        isDigest = false
        if let colon = image.lastIndex(of: ":"), !image[image.index(after: colon)...].contains("/") {
            repository = String(image[..<colon])
            tag = String(image[image.index(after: colon)...])
        } else {
            repository = image
            tag = "latest"
        }
    }

    /// Moving tags are re-pulled on every provision; digests and pinned tags never are.
    var isMoving: Bool { !isDigest && ["latest", "main", "dev", "staging", "edge", "nightly", "rolling"].contains(tag) }
}

@c @implementation
public func molecule_provider_negotiate(
    _ offer: UnsafePointer<mp_host_offer>?,
    _ answer: UnsafeMutablePointer<mp_provider_answer>?
) -> Int32 {
    ProviderExport.negotiate(DockerProvider.self, offer: offer, answer: answer)
}
