import Foundation
import ProviderABI
import ProviderKit
import ProviderWire

/// The embedded default backend: a workspace is a local process group.
///
/// Each workspace owns `<state_dir>/workspaces/<id>/` — `meta.json` (owner label, pid, process start time),
/// `configs/` (the files root; plugins in `configs/plugins/<name>`, token in `configs/.auth_token`) and
/// `console.log` (captured stdout/stderr). Processes are detached from the Host (their own session), so they outlive a
/// Host crash and `list_owned` finds them again from the state directory.
final class ProcessProvider: WorkspaceProvider, Sendable {
    static let name = "process"
    static let version = "1.0.0"
    static let summary = "Workspaces as local process groups (the embedded default)"

    /// The provider's configuration (`create`'s JSON).
    struct Config: Decodable, Sendable {
        /// Where workspaces, snapshots and metadata live.
        var stateDir: String
        /// The owner label written on everything this instance creates.
        var owner: String
        /// argv used when a provision request names no command.
        var command: [String]
        /// SIGTERM → SIGKILL grace, milliseconds.
        var stopGraceMs: Int
        /// uid:gid given to installed plugin files when the provider runs as root and the sandbox is off.
        var pluginUid: UInt32?
        /// How workloads are confined (see ``WorkloadSandbox``): `auto` (default) or `off`.
        var sandbox: WorkloadSandbox.Mode
        /// The first of the uids given to workspaces when the provider runs as root, and how many there are.
        var uidBase: UInt32
        var uidCount: UInt32

        enum CodingKeys: String, CodingKey {
            case stateDir = "state_dir"
            case owner, command
            case stopGraceMs = "stop_grace_ms"
            case pluginUid = "plugin_uid"
            case sandbox
            case uidBase = "uid_base"
            case uidCount = "uid_count"
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            stateDir =
                try c.decodeIfPresent(String.self, forKey: .stateDir)
                ?? FileManager.default.currentDirectoryPath + "/.molecule/process"
            owner = try c.decodeIfPresent(String.self, forKey: .owner) ?? "default"
            command = try c.decodeIfPresent([String].self, forKey: .command) ?? ["/bin/sh", "-c", "while :; do sleep 1; done"]
            stopGraceMs = try c.decodeIfPresent(Int.self, forKey: .stopGraceMs) ?? 3000
            pluginUid = try c.decodeIfPresent(UInt32.self, forKey: .pluginUid)
            sandbox = try c.decodeIfPresent(WorkloadSandbox.Mode.self, forKey: .sandbox) ?? .auto
            uidBase = try c.decodeIfPresent(UInt32.self, forKey: .uidBase) ?? 200_000
            uidCount = try c.decodeIfPresent(UInt32.self, forKey: .uidCount) ?? 10_000
            if uidBase < 1000 || uidCount == 0 || UInt64(uidBase) + UInt64(uidCount) > UInt64(Int32.max) {
                throw ProviderError.invalidArgument("process configuration: uid_base must be at least 1000 and uid_count at least 1, within 2^31")
            }
            if command.isEmpty { throw ProviderError.invalidArgument("process configuration: \"command\" must not be empty") }
            if owner.isEmpty { throw ProviderError.invalidArgument("process configuration: \"owner\" must not be empty") }
        }
    }

    let config: Config
    let layout: StateLayout
    let sandbox: WorkloadSandbox
    /// Serialises verbs per workspace so provision/stop/pause of one workspace never interleave.
    private let locks = WorkspaceLocks()

    init(configuration: ProviderConfiguration) throws {
        config = try configuration.decode(Config.self, provider: Self.name)
        layout = StateLayout(root: URL(fileURLWithPath: config.stateDir, isDirectory: true))
        sandbox = WorkloadSandbox(mode: config.sandbox, uidBase: config.uidBase, uidCount: config.uidCount)
    }

    func locked<T: Sendable>(_ workspaceId: String, _ body: () throws -> T) throws -> T {
        try locks.withLock(workspaceId, body)
    }

    /// Writes the token the agent reads, owned by the workload's uid when it has one.
    func writeToken(_ token: String, into workspace: WorkspaceDirectory) throws {
        try workspace.writeToken(token)
        sandbox.handOver([workspace.configs.appendingPathComponent(AgentEnvironment.tokenFileName).path], of: workspace)
    }

    // MARK: Core verbs

    func describe(context: CallContext) throws -> DescribeResponse {
        try layout.ensureUsable()
        return DescribeResponse(name: Self.name, version: Self.version, backend: "state_dir=\(layout.root.path) \(sandbox.summary)")
    }

    func provision(_ request: ProvisionRequest, context: CallContext) throws -> ProvisionResponse {
        try layout.ensureUsable()
        let workspace = try layout.workspace(request.workspaceId)
        return try locked(request.workspaceId) {
            if var meta = workspace.readMeta(), meta.state == .running {
                if let group = meta.group, group.isAlive {
                    // Idempotent: the running instance is the answer, and it gets the token this request carries.
                    if let token = request.token { try writeToken(token, into: workspace) }
                    return ProvisionResponse(instanceRef: group.reference, state: .running, address: "127.0.0.1")
                }
                meta.state = .stopped
                try workspace.writeMeta(meta)
            }
            if let adopted = try adoptUntracked(workspace) {
                if let token = request.token { try writeToken(token, into: workspace) }
                return ProvisionResponse(instanceRef: adopted.reference, state: .running, address: "127.0.0.1")
            }
            return try start(workspace, request: request, context: context)
        }
    }

    /// Spawns the workspace's process group and records it. The caller holds the workspace's lock.
    func start(_ workspace: WorkspaceDirectory, request: ProvisionRequest, context: CallContext) throws -> ProvisionResponse {
        try workspace.create()
        if let token = request.token { try workspace.writeToken(token) }
        // Its own uid when the provider is root; the files root becomes that uid's (see WorkloadSandbox).
        let uid = sandbox.separatesUsers ? try sandbox.uid(for: workspace, in: layout, owner: config.owner) : nil
        if let uid { try sandbox.prepare(workspace, layout: layout, uid: uid) }
        // Nothing of the provider's (or the Host's) environment: only the workspace's own variables. The labels let
        // a restarted provider find the group in /proc (see ProcessGroup.labelled).
        let env = AgentEnvironment(request: request).variables(
            filesRoot: workspace.configs.path,
            base: WorkloadSandbox.baseEnvironment(home: workspace.configs.path),
            labels: [ProcessGroup.Label.owner: config.owner, ProcessGroup.Label.stateDir: layout.root.path, ProcessGroup.Label.managed: "true"]
        )
        let command = request.command ?? config.command
        let group = try ProcessGroup.spawn(
            command: try sandbox.wrap(command, uid: uid),
            environment: env,
            workingDirectory: workspace.configs.path,
            logFile: workspace.consoleLog.path,
            pidFile: workspace.root.appendingPathComponent("pid").path
        )
        var meta = workspace.readMeta() ?? WorkspaceMeta(workspaceId: request.workspaceId, owner: config.owner)
        meta.group = group
        meta.state = .running
        meta.command = command
        try workspace.writeMeta(meta)
        HostServices.current?.emitEvent(type: "instance.started", workspaceId: request.workspaceId, detail: ["ref": group.reference])
        return ProvisionResponse(instanceRef: group.reference, state: .running, address: "127.0.0.1")
    }

    func stop(_ request: WorkspaceRef, context: CallContext) throws -> StopResponse {
        let workspace = try layout.workspace(request.workspaceId)
        return try locked(request.workspaceId) {
            guard var meta = workspace.readMeta(), meta.state == .running else {
                // Nothing recorded — but a labelled group left by a crash between spawn and record is still ours.
                guard let untracked = try adoptUntracked(workspace) else { return StopResponse(stopped: false) }
                try untracked.terminate(graceMilliseconds: min(config.stopGraceMs, max(0, context.remainingMilliseconds - 100)))
                if var adopted = workspace.readMeta() {
                    adopted.state = .stopped
                    adopted.group = nil
                    try workspace.writeMeta(adopted)
                }
                return StopResponse(stopped: true)
            }
            var wasAlive = false
            if let group = meta.group {
                wasAlive = group.isAlive
                try group.terminate(graceMilliseconds: min(config.stopGraceMs, max(0, context.remainingMilliseconds - 100)))
            }
            meta.state = .stopped
            meta.group = nil
            try workspace.writeMeta(meta)
            return StopResponse(stopped: wasAlive)
        }
    }

    func inspect(_ request: WorkspaceRef, context: CallContext) throws -> InspectResponse {
        let workspace = try layout.workspace(request.workspaceId)
        if let meta = workspace.readMeta(), meta.state == .running, let group = meta.group, group.isAlive {
            return InspectResponse(state: group.state, instanceRef: group.reference, address: "127.0.0.1")
        }
        guard let adopted = try locked(request.workspaceId, { try adoptUntracked(workspace) }) else { return InspectResponse(state: .absent) }
        return InspectResponse(state: adopted.state, instanceRef: adopted.reference, address: "127.0.0.1")
    }

    /// A live group labelled with this workspace that the metadata does not know (the Host died between spawning it
    /// and recording it) is recorded and answered, never left running unseen. Caller holds the workspace's lock.
    func adoptUntracked(_ workspace: WorkspaceDirectory) throws -> ProcessGroup? {
        guard let found = ProcessGroup.find(workspaceId: workspace.id, stateDir: layout.root.path), found.owner == config.owner else { return nil }
        try workspace.create()
        var meta = workspace.readMeta() ?? WorkspaceMeta(workspaceId: workspace.id, owner: found.owner)
        meta.group = found.group
        meta.state = .running
        try workspace.writeMeta(meta)
        return found.group
    }

    func listOwned(_ request: ListOwnedRequest, context: CallContext) throws -> ListOwnedResponse {
        try layout.ensureUsable()
        let owner = request.owner ?? config.owner
        var resources: [OwnedResource] = []
        for workspace in layout.allWorkspaces() {
            guard let meta = workspace.readMeta(), meta.owner == owner else { continue }
            if meta.state == .running, let group = meta.group, group.isAlive {
                resources.append(
                    OwnedResource(
                        workspaceId: meta.workspaceId, kind: .instance, ref: group.reference, owner: owner,
                        state: group.state, createdAtMs: meta.createdAtMs
                    )
                )
            }
            resources.append(
                OwnedResource(
                    workspaceId: meta.workspaceId, kind: .storage, ref: workspace.root.path, owner: owner, state: nil,
                    createdAtMs: meta.createdAtMs
                )
            )
        }
        // Labelled groups that no metadata records (a crash between spawn and record): owned, so listed.
        let tracked = Set(resources.filter { $0.kind == .instance }.map(\.workspaceId))
        for untracked in ProcessGroup.labelled(stateDir: layout.root.path) where untracked.owner == owner && !tracked.contains(untracked.workspaceId)
        {
            resources.append(
                OwnedResource(
                    workspaceId: untracked.workspaceId, kind: .instance, ref: untracked.group.reference, owner: owner, state: untracked.group.state,
                    createdAtMs: untracked.group.startedAtMs
                )
            )
        }
        for snapshot in layout.allSnapshots() where snapshot.owner == owner {
            resources.append(
                OwnedResource(
                    workspaceId: snapshot.workspaceId, kind: .snapshot, ref: snapshot.snapshotId, owner: owner, state: nil,
                    createdAtMs: snapshot.createdAtMs
                )
            )
        }
        return ListOwnedResponse(resources: resources)
    }
}

@c @implementation
public func molecule_provider_negotiate(
    _ offer: UnsafePointer<mp_host_offer>?,
    _ answer: UnsafeMutablePointer<mp_provider_answer>?
) -> Int32 {
    ProviderExport.negotiate(ProcessProvider.self, offer: offer, answer: answer)
}
