import CProcessSupport
import Foundation
import ProviderABI
import ProviderKit
import ProviderWire

/// The embedded default backend: a workspace is a local workload under its own supervisor, contained by a cgroup
/// where the machine gives one (see ``Containment``).
///
/// Each workspace owns `<state_dir>/workspaces/<id>/` — `meta.json` (owner label, the workload, its cgroup, uid and
/// port), `configs/` (the files root; plugins in `configs/plugins/<name>`, token in `configs/.auth_token`),
/// `console.log` (captured stdout/stderr) and the supervisor's `pid` and `exit` files. Workloads are detached from the
/// Host (their supervisor is its own session), so they outlive a Host crash, and a restarted provider finds them by
/// their recorded cgroup and the supervisor's pid file — never by scanning `/proc`.
final class ProcessProvider: WorkspaceProvider, Sendable {
    static let name = "process"
    static let version = "1.1.0"
    static let features: [ProviderFeature] = [.seedArchive, .hostProcesses]
    static let summary = "Workspaces as local workloads, contained by cgroup (the embedded default)"

    /// The provider's configuration (`create`'s JSON).
    struct Config: Decodable, Sendable {
        /// Where workspaces, snapshots and metadata live.
        var stateDir: String
        /// The owner label written on everything this instance creates.
        var owner: String
        /// argv used when a provision request names no command: the reference agent shipped beside this library.
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
        /// How workspaces are contained (see ``Containment``): `auto` (cgroup when writable), `cgroup` or `session`.
        var containment: Containment.Mode
        /// Every workspace's limits, and per tier (`"2": {memory_mb: 1024}`) the values that differ.
        var limits: ResourceLimits
        var tiers: [String: ResourceLimits]
        /// The supervisor executable (default: `molecule-workload-supervisor` beside this library).
        var supervisor: String
        /// The ports handed to workspaces (`PORT`): `port_count` ports from `port_first`.
        var portFirst: Int
        var portCount: Int
        /// The address agents advertise (`HOSTNAME`).
        var advertiseHost: String

        enum CodingKeys: String, CodingKey {
            case stateDir = "state_dir"
            case owner, command
            case stopGraceMs = "stop_grace_ms"
            case pluginUid = "plugin_uid"
            case sandbox
            case uidBase = "uid_base"
            case uidCount = "uid_count"
            case containment, limits, tiers, supervisor
            case portFirst = "port_first"
            case portCount = "port_count"
            case advertiseHost = "advertise_host"
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            stateDir =
                try c.decodeIfPresent(String.self, forKey: .stateDir)
                ?? FileManager.default.currentDirectoryPath + "/.molecule/process"
            owner = try c.decodeIfPresent(String.self, forKey: .owner) ?? "default"
            command = try c.decodeIfPresent([String].self, forKey: .command) ?? Self.defaultCommand
            stopGraceMs = try c.decodeIfPresent(Int.self, forKey: .stopGraceMs) ?? 3000
            pluginUid = try c.decodeIfPresent(UInt32.self, forKey: .pluginUid)
            sandbox = try c.decodeIfPresent(WorkloadSandbox.Mode.self, forKey: .sandbox) ?? .auto
            uidBase = try c.decodeIfPresent(UInt32.self, forKey: .uidBase) ?? 200_000
            uidCount = try c.decodeIfPresent(UInt32.self, forKey: .uidCount) ?? 10_000
            containment = try c.decodeIfPresent(Containment.Mode.self, forKey: .containment) ?? .auto
            limits = try c.decodeIfPresent(ResourceLimits.self, forKey: .limits) ?? ResourceLimits()
            tiers = try c.decodeIfPresent([String: ResourceLimits].self, forKey: .tiers) ?? [:]
            supervisor = try c.decodeIfPresent(String.self, forKey: .supervisor) ?? Self.besideLibrary("molecule-workload-supervisor")
            portFirst = try c.decodeIfPresent(Int.self, forKey: .portFirst) ?? 20_000
            portCount = try c.decodeIfPresent(Int.self, forKey: .portCount) ?? 1000
            advertiseHost = try c.decodeIfPresent(String.self, forKey: .advertiseHost) ?? "127.0.0.1"
            if uidBase < 1000 || uidCount == 0 || UInt64(uidBase) + UInt64(uidCount) > UInt64(Int32.max) {
                throw ProviderError.invalidArgument("process configuration: uid_base must be at least 1000 and uid_count at least 1, within 2^31")
            }
            if command.isEmpty { throw ProviderError.invalidArgument("process configuration: \"command\" must not be empty") }
            if owner.isEmpty { throw ProviderError.invalidArgument("process configuration: \"owner\" must not be empty") }
            if portFirst < 1024 || portCount < 1 || portFirst + portCount > 65536 {
                throw ProviderError.invalidArgument("process configuration: ports must lie within 1024-65535 (port_first, port_count)")
            }
            if advertiseHost.isEmpty { throw ProviderError.invalidArgument("process configuration: \"advertise_host\" must not be empty") }
        }

        /// The reference agent beside this library when it is there (a default workspace is an agent that
        /// registers), else a shell that idles.
        static var defaultCommand: [String] {
            let agent = besideLibrary("molecule-agent")
            return FileManager.default.isExecutableFile(atPath: agent) ? [agent] : ["/bin/sh", "-c", "while :; do sleep 1; done"]
        }

        /// `name` in the directory this provider library was loaded from.
        static func besideLibrary(_ name: String) -> String {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            guard molecule_image_path(#dsohandle, &buffer, buffer.count) == 0 else { return name }
            let library = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return URL(fileURLWithPath: library).deletingLastPathComponent().appendingPathComponent(name).path
        }

        /// The limits of a workspace of `tier`.
        func limits(tier: Int?) -> ResourceLimits { limits.overridden(by: tier.flatMap { tiers[String($0)] }) }
    }

    let config: Config
    let layout: StateLayout
    let sandbox: WorkloadSandbox
    let containment: Containment
    let ports: MetaAllocator<Int>
    /// Serialises verbs per workspace so provision/stop/pause of one workspace never interleave.
    private let locks = WorkspaceLocks()
    /// Open terminal sessions (ended by `stop`).
    let sessions = SessionTable()
    /// `exec` commands still running, by workspace (killed by `stop`).
    let commands = RunningCommands()

    init(configuration: ProviderConfiguration) throws {
        config = try configuration.decode(Config.self, provider: Self.name)
        layout = StateLayout(root: URL(fileURLWithPath: config.stateDir, isDirectory: true))
        sandbox = WorkloadSandbox(mode: config.sandbox, uidBase: config.uidBase, uidCount: config.uidCount)
        ports = PortAllocator.make(first: config.portFirst, count: config.portCount)
        guard FileManager.default.isExecutableFile(atPath: config.supervisor) else {
            throw ProviderError.unavailable(
                "the workload supervisor \(config.supervisor) is missing or not executable (build molecule-workload-supervisor, or set \"supervisor\")"
            )
        }
        containment = try Containment.choose(config.containment, stateDirectory: config.stateDir)
        let limited = !config.limits.isEmpty || config.tiers.values.contains { !$0.isEmpty }
        if limited, case .session(let reason) = containment {
            throw ProviderError.unavailable("process configuration sets limits, which need a writable cgroup, but \(reason)")
        }
    }

    func locked<T: Sendable>(_ workspaceId: String, _ body: () throws -> T) throws -> T {
        try locks.withLock(workspaceId, body)
    }

    /// Writes the token the agent reads, owned by the workload's uid when it has one.
    func writeToken(_ token: String, into workspace: WorkspaceDirectory) throws {
        try workspace.writeToken(token)
        sandbox.handOver([workspace.configs.appendingPathComponent(AgentEnvironment.tokenFileName).path], of: workspace)
    }

    /// The supervisor's files for `workspace`.
    func files(of workspace: WorkspaceDirectory) -> Workload.Files {
        Workload.Files(
            pidFile: workspace.root.appendingPathComponent("pid").path, exitFile: workspace.root.appendingPathComponent("exit").path,
            logFile: workspace.consoleLog.path, launchErrors: workspace.root.appendingPathComponent("launch.err").path
        )
    }

    // MARK: Core verbs

    func describe(context: CallContext) throws -> DescribeResponse {
        try layout.ensureUsable()
        return DescribeResponse(
            name: Self.name, version: Self.version,
            backend: "state_dir=\(layout.root.path) \(sandbox.summary) \(containment.summary) limits=\(config.limits.summary)")
    }

    func provision(_ request: ProvisionRequest, context: CallContext) throws -> ProvisionResponse {
        try layout.ensureUsable()
        let workspace = try layout.workspace(request.workspaceId)
        return try locked(request.workspaceId) {
            if let running = try runningWorkload(workspace) {
                // Idempotent: the running instance is the answer, and it gets the token this request carries.
                if let token = request.token { try writeToken(token, into: workspace) }
                return ProvisionResponse(instanceRef: running.reference, state: .running, address: config.advertiseHost)
            }
            return try start(workspace, request: request, context: context)
        }
    }

    /// The workspace's live workload: the recorded one, or one a supervisor started that the metadata never recorded
    /// (the Host died between spawn and record) — recorded now, never left running unseen. Caller holds the lock.
    func runningWorkload(_ workspace: WorkspaceDirectory) throws -> Workload? {
        guard var meta = workspace.readMeta() else { return nil }
        if meta.state == .running, let workload = meta.workload, workload.isAlive { return workload }
        guard let found = Workload.recover(files: files(of: workspace), cgroup: meta.cgroup) else { return nil }
        meta.workload = found
        meta.state = .running
        try workspace.writeMeta(meta)
        return found
    }

    /// Starts the workspace's workload and records it. The caller holds the workspace's lock.
    func start(_ workspace: WorkspaceDirectory, request: ProvisionRequest, context: CallContext) throws -> ProvisionResponse {
        try workspace.create()
        if let token = request.token { try workspace.writeToken(token) }
        let seed = try request.seedEntries()
        if let seed { try workspace.write(seed) }
        // Its own uid when the provider is root; the files root becomes that uid's (see WorkloadSandbox).
        let uid = sandbox.separatesUsers ? try sandbox.uid(for: workspace, in: layout, owner: config.owner) : nil
        if let uid { try sandbox.prepare(workspace, layout: layout, uid: uid) }
        let port = try ports.value(for: workspace, in: layout, owner: config.owner, isUsable: PortAllocator.isFree)
        // The cgroup exists, with its limits, before anything of the workspace runs; recorded before the spawn, so a
        // crash right after it still finds the workload by cgroup.
        var meta = workspace.readMeta() ?? WorkspaceMeta(workspaceId: request.workspaceId, owner: config.owner)
        let cgroup = containment.layout?.cgroup(for: workspace.id)
        if let cgroup {
            if cgroup.exists {
                try cgroup.killAll(timeoutMs: 2000)
                cgroup.remove()
            }
            try cgroup.create(limits: config.limits(tier: request.tier))
        }
        meta.cgroup = cgroup
        meta.tier = request.tier
        try workspace.writeMeta(meta)
        // Nothing of the provider's (or the Host's) environment: only the workspace's own variables.
        let env = AgentEnvironment(request: request).variables(
            filesRoot: workspace.configs.path, network: .init(address: config.advertiseHost, port: port),
            base: WorkloadSandbox.baseEnvironment(home: workspace.configs.path)
        )
        let command = request.command ?? config.command
        let workload: Workload
        do {
            workload = try Workload.spawn(
                supervisor: config.supervisor, command: try sandbox.wrap(command, uid: uid), environment: env,
                workingDirectory: workspace.configs.path, files: files(of: workspace), cgroup: cgroup
            )
        } catch {
            // A workload that hit a limit at once (a fork flood reaches pids.max in milliseconds) says so.
            var failure = error
            if let cgroup, let limit = Self.limitReason(cgroup.usage, limits: config.limits(tier: request.tier)) {
                failure = ProviderError.invalidArgument("workspace command \(command) ended at once: \(limit)")
            }
            if let cgroup {
                try? cgroup.killAll(timeoutMs: 1000)
                cgroup.remove()
            }
            throw failure
        }
        meta.workload = workload
        meta.state = .running
        meta.command = command
        try workspace.writeMeta(meta)
        HostServices.current?.emitEvent(type: "instance.started", workspaceId: request.workspaceId, detail: ["ref": workload.reference])
        return ProvisionResponse(instanceRef: workload.reference, state: .running, address: config.advertiseHost, seeded: seed == nil ? nil : true)
    }

    func stop(_ request: WorkspaceRef, context: CallContext) throws -> StopResponse {
        let workspace = try layout.workspace(request.workspaceId)
        return try locked(request.workspaceId) {
            let grace = min(config.stopGraceMs, max(0, context.remainingMilliseconds - 100))
            // Sessions and exec commands are the workspace's processes too, even outside its cgroup.
            sessions.closeAll(workspaceId: request.workspaceId)
            commands.killAll(workspaceId: request.workspaceId)
            let workload = try runningWorkload(workspace)
            try workload?.terminate(graceMilliseconds: grace)
            // Whatever else is left in the workspace's cgroup (a workload whose supervisor was killed, an orphan of a
            // removed workspace) goes too, and the cgroup with it.
            let cgroup = workspace.readMeta()?.cgroup ?? containment.layout?.cgroup(for: workspace.id)
            var killedStragglers = false
            if let cgroup, cgroup.exists {
                killedStragglers = !cgroup.members.isEmpty
                try cgroup.killAll(timeoutMs: 2000)
                cgroup.remove()
            }
            if var meta = workspace.readMeta() {
                meta.state = .stopped
                meta.workload = nil
                try workspace.writeMeta(meta)
            }
            return StopResponse(stopped: workload != nil || killedStragglers)
        }
    }

    func inspect(_ request: WorkspaceRef, context: CallContext) throws -> InspectResponse {
        let workspace = try layout.workspace(request.workspaceId)
        if let meta = workspace.readMeta(), meta.state == .running, let workload = meta.workload, workload.isAlive {
            return InspectResponse(state: workload.state, instanceRef: workload.reference, address: config.advertiseHost)
        }
        return try locked(request.workspaceId) {
            guard let meta = workspace.readMeta() else { return InspectResponse(state: .absent) }
            if let workload = try runningWorkload(workspace) {
                return InspectResponse(state: workload.state, instanceRef: workload.reference, address: config.advertiseHost)
            }
            // Started and not stopped on purpose, yet not running: say why.
            guard meta.state == .running else { return InspectResponse(state: .stopped) }
            let reason = endReason(workspace, meta: meta)
            return InspectResponse(state: .stopped, failure: reason.limit, ended: reason.ended)
        }
    }

    /// Why a workload that was running ended: a limit the kernel enforced (it would end the same way again), or its
    /// own exit.
    func endReason(_ workspace: WorkspaceDirectory, meta: WorkspaceMeta) -> (limit: String?, ended: String) {
        let status = Workload.exitStatus(files(of: workspace).exitFile)
        let ended: String =
            switch status {
            case nil: "the workload is gone and left no exit status (its supervisor was killed)"
            case "exit 0"?: "the workload exited (status 0)"
            case let status? where status.hasPrefix("exit "): "the workload exited with status \(status.dropFirst(5))"
            case let status?: "the workload was killed by \(status)"
            }
        guard let usage = meta.cgroup?.usage, let limit = Self.limitReason(usage, limits: config.limits(tier: meta.tier)) else {
            return (nil, ended)
        }
        return ("\(limit); \(ended)", ended)
    }

    /// The limit the kernel enforced on a workspace, if it did: OOM kills, or forks refused at the pids limit.
    static func limitReason(_ usage: WorkspaceCgroup.Usage, limits: ResourceLimits) -> String? {
        if usage.oomKills > 0 {
            let limit = limits.memoryMb.map { "memory limit \($0) MiB exceeded" } ?? "out of memory"
            return "\(limit): the kernel killed \(usage.oomKills) process(es) of the workspace"
        }
        if usage.pidsLimitHits > 0 {
            let limit = limits.pids.map { "process limit \($0) reached" } ?? "process limit reached"
            return "\(limit): \(usage.pidsLimitHits) fork(s) refused"
        }
        return nil
    }

    func listOwned(_ request: ListOwnedRequest, context: CallContext) throws -> ListOwnedResponse {
        try layout.ensureUsable()
        let owner = request.owner ?? config.owner
        var resources: [OwnedResource] = []
        var known: Set<String> = []
        for workspace in layout.allWorkspaces() {
            known.insert(workspace.id)  // whoever owns it: its meta.json says, not its cgroup
            guard let meta = workspace.readMeta(), meta.owner == owner else { continue }
            let live =
                meta.state == .running && meta.workload?.isAlive == true
                ? meta.workload : Workload.recover(files: files(of: workspace), cgroup: meta.cgroup)
            if let live {
                resources.append(
                    OwnedResource(
                        workspaceId: meta.workspaceId, kind: .instance, ref: live.reference, owner: owner, state: live.state,
                        createdAtMs: meta.createdAtMs))
            }
            resources.append(
                OwnedResource(
                    workspaceId: meta.workspaceId, kind: .storage, ref: workspace.root.path, owner: owner, state: nil, createdAtMs: meta.createdAtMs))
        }
        // A populated workspace cgroup with no workspace directory (its storage went while something still ran).
        if owner == config.owner, let cgroups = containment.layout {
            for id in cgroups.existingWorkspaces() where !known.contains(id) && !cgroups.cgroup(for: id).members.isEmpty {
                resources.append(OwnedResource(workspaceId: id, kind: .instance, ref: "cgroup:\(id)", owner: owner, state: .running, createdAtMs: 0))
            }
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
