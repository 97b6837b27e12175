import Foundation
import HostStore
import Logging
import ProviderHost
import ProviderWire
import Synchronization

/// The only door to providers. It owns every loaded provider instance (privately: nothing else in the Host holds
/// one), chooses the provider of each workspace from its row, and routes every verb. Lifecycle verbs also write the
/// outcome to the store: a failure always leaves a message, a stop that failed never becomes "removed".
public final class Dispatcher: Sendable {
    private let instances: [String: ProviderInstance]
    /// The provider new workspaces get when they name none.
    public let defaultProvider: String?
    /// The providers a create request may name.
    public let allowedProviders: [String]
    /// Why configured providers were refused at load (each one line naming the file).
    public let refusals: [String]
    let store: WorkspaceStore
    let tokens: TokenStore
    let events: EventStore
    let platformURL: String
    public let background = BackgroundTasks()
    let restarts = Mutex<[UUID: Bool]>([:])
    let logger: Logger
    /// Stop attempts and first backoff of a restart's stop (then LEAK-SUSPECT and provision anyway).
    let restartStopAttempts: Int
    let restartBackoff: Duration
    /// Provisions of one row interrupted without any answer (the Host or the runner died mid-call) before recovery
    /// stops retrying it and marks it failed.
    public let maxProvisionAttempts: Int

    /// Loads every configured provider (concurrently, each bounded by its load and create deadlines); a library that
    /// is refused is logged and left out, the others serve.
    public init(
        specs: [ProviderSpec],
        defaultProvider: String?,
        allowedProviders: [String]?,
        store: WorkspaceStore,
        tokens: TokenStore,
        events: EventStore,
        platformURL: String,
        restartStopAttempts: Int = 3,
        restartBackoff: Duration = .seconds(1),
        maxProvisionAttempts: Int = 3,
        logger: Logger = Logger(label: "molecule.dispatcher")
    ) async {
        let started = await withTaskGroup(of: (Int, Result<ProviderInstance, ProviderStartError>).self) { group in
            for (index, spec) in specs.enumerated() {
                group.addTask { (index, await Self.start(spec, logger: logger)) }
            }
            var results: [(Int, Result<ProviderInstance, ProviderStartError>)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }
        }
        var instances: [String: ProviderInstance] = [:]
        var refusals: [String] = []
        for (index, result) in started {
            let spec = specs[index]
            switch result {
            case .failure(let error):
                logger.error("\(error.description)")
                refusals.append(error.description)
            case .success(let instance) where instance.name != spec.name:
                let message = "provider \(spec.library): refused: configured as \"\(spec.name)\" but its manifest says \"\(instance.name)\""
                logger.error("\(message)")
                refusals.append(message)
                await instance.shutdown()
            case .success(let instance) where instances[spec.name] != nil:
                let message = "provider \(spec.library): refused: a provider named \"\(spec.name)\" is already configured"
                logger.error("\(message)")
                refusals.append(message)
                await instance.shutdown()
            case .success(let instance):
                let identity = instance.identity
                logger.info(
                    "provider loaded",
                    metadata: [
                        "provider": "\(spec.name)", "version": "\(identity.manifest.version)", "path": "\(identity.path)",
                        "abi": "\(identity.abiVersion)", "isolation": "\(instance.isolation.rawValue)",
                        "verbs": "\(identity.supportedVerbs.map(\.wireName).joined(separator: ","))",
                    ]
                )
                instances[spec.name] = instance
            }
        }
        self.instances = instances
        self.refusals = refusals
        self.defaultProvider = defaultProvider ?? specs.first?.name
        self.allowedProviders = allowedProviders ?? specs.map(\.name)
        self.store = store
        self.tokens = tokens
        self.events = events
        self.platformURL = platformURL
        self.restartStopAttempts = max(1, restartStopAttempts)
        self.restartBackoff = restartBackoff
        self.maxProvisionAttempts = max(1, maxProvisionAttempts)
        self.logger = logger
    }

    private static func start(_ spec: ProviderSpec, logger: Logger) async -> Result<ProviderInstance, ProviderStartError> {
        do throws(ProviderStartError) {
            return .success(try await ProviderInstance.start(spec.launch, logger: logger))
        } catch { return .failure(error) }
    }

    // MARK: Providers

    /// Whether `provider` is loaded and serving.
    public func isLoaded(_ provider: String) -> Bool { instances[provider] != nil }

    /// The loaded providers, for operators.
    public var summaries: [ProviderSummary] {
        instances.keys.sorted().compactMap { name in
            guard let instance = instances[name] else { return nil }
            return ProviderSummary(instance, name: name)
        }
    }

    /// Loads `provider`'s library again (or the one at `path`) and switches new calls to it; calls in flight finish on
    /// the old one. A library that fails to load leaves the old one serving.
    public func reload(provider: String, path: String?) async throws(DispatchError) -> ProviderSummary {
        guard let instance = instances[provider] else { throw .providerNotLoaded(provider: provider) }
        do { try await instance.reload(path: path) } catch { throw .reloadFailed(provider: provider, reason: error.description) }
        return ProviderSummary(instance, name: provider)
    }

    /// The provider a new workspace gets: the requested one if offered, else the default.
    public func chooseProvider(requested: String?) throws(DispatchError) -> String {
        if let requested {
            guard allowedProviders.contains(requested) else { throw .providerNotAllowed(provider: requested, allowed: allowedProviders) }
            return requested
        }
        guard let defaultProvider else { throw .noProvider }
        return defaultProvider
    }

    /// Calls `verb` on the workspace's provider.
    func call<Response: Decodable>(
        _ verb: Verb,
        on provider: String,
        _ request: some Encodable,
        as: Response.Type = Response.self,
        timeout: Duration? = nil
    ) async throws(DispatchError) -> Response {
        guard let instance = instances[provider] else { throw .providerNotLoaded(provider: provider) }
        do {
            return try await instance.call(verb, request, as: Response.self, timeout: timeout)
        } catch {
            throw .provider(status: error.status, message: error.message, provider: provider, verb: verb, retryable: error.retryable)
        }
    }

    // MARK: Provision

    /// Starts provisioning in the background and returns at once (the row is already `provisioning`).
    public func provision(_ workspace: Workspace, snapshotId: String? = nil) {
        background.run { [self] in _ = await provisionSync(workspace, snapshotId: snapshotId) }
    }

    /// Provisions now: mints the workspace's token, calls the provider, records the instance — or marks the
    /// workspace failed with the reason. Answers whether the provider started it.
    public func provisionSync(_ workspace: Workspace, snapshotId: String? = nil) async -> Bool {
        let log = logger.with(workspace)
        log.info("provision.start", metadata: ["provider": "\(workspace.provider)"])
        do {
            // Counted before the call and cleared by any answer: only a provision that never answered (the Host or
            // its runner died mid-call) stays counted, and recovery stops re-driving such a row after a few.
            try await store.countProvisionAttempt(workspace.id)
            let token = try await tokens.rotate(workspace.id)
            let request = provisionRequest(workspace, token: token, snapshotId: snapshotId)
            let verb: Verb = snapshotId == nil ? .provision : .restore
            let started: ProvisionResponse
            do { started = try await call(verb, on: workspace.provider, request) } catch {
                try? await store.clearProvisionAttempts(workspace.id)
                throw error
            }
            try await store.clearProvisionAttempts(workspace.id)
            try await store.setInstance(workspace.id, instanceRef: started.instanceRef, url: nil)
            await record("WORKSPACE_PROVISIONED", workspace.id, ["instance_ref": .string(started.instanceRef), "provider": .string(workspace.provider)])
            log.info("provision.done", metadata: ["instance": "\(started.instanceRef)"])
            return true
        } catch let error as DispatchError {
            await fail(workspace, "provisioning failed: \(error)")
            return false
        } catch {
            await fail(workspace, "provisioning failed: \(error)")
            return false
        }
    }

    func provisionRequest(_ workspace: Workspace, token: String, snapshotId: String?) -> ProvisionRequest {
        let config = workspace.config
        var env: [String: String] = [:]
        if case .object(let extra)? = config["env"] {
            for (key, value) in extra { if let text = value.stringValue { env[key] = text } }
        }
        env["WORKSPACE_ID"] = workspace.id.uuidString.lowercased()
        env["PLATFORM_URL"] = platformURL
        env["TIER"] = String(workspace.tier)
        if let parent = workspace.parentId { env["PARENT_ID"] = parent.uuidString.lowercased() }
        let command: [String]? = {
            guard case .array(let parts)? = config["command"] else { return nil }
            return parts.compactMap(\.stringValue)
        }()
        return ProvisionRequest(
            workspaceId: workspace.id.uuidString.lowercased(), name: workspace.name, runtime: workspace.runtime, tier: workspace.tier,
            image: config["image"]?.stringValue, command: command, env: env, token: token, platformUrl: platformURL,
            snapshotId: snapshotId, options: config["options"]
        )
    }

    /// Marks a provisioning workspace failed (guarded: a workspace that already moved on is left alone).
    func fail(_ workspace: Workspace, _ message: String) async {
        logger.with(workspace).error("provision.failed", metadata: ["error": "\(message)"])
        do {
            if try await store.markFailed(workspace.id, message: FailureMessage(message), from: [.provisioning]) {
                await record("WORKSPACE_PROVISION_FAILED", workspace.id, ["error": .string(message)])
            }
        } catch {
            logger.with(workspace).error("could not record the provisioning failure", metadata: ["error": "\(error)"])
        }
    }

    func record(_ type: String, _ id: UUID, _ payload: [String: JSONValue]) async {
        do { try await events.record(type, workspaceId: id, payload: payload) } catch {
            logger.warning("event not recorded", metadata: ["event": "\(type)", "error": "\(error)"])
        }
    }

    // MARK: Stop, restart, delete

    /// Stops the workspace's instance. An unknown instance is success (idempotent by contract).
    public func stop(_ workspace: Workspace) async throws(DispatchError) {
        let _: StopResponse = try await call(.stop, on: workspace.provider, WorkspaceRef(workspaceId: workspace.wireId))
    }

    /// Restart: answers at once; in the background stops (bounded retry with backoff; on exhaustion logs
    /// LEAK-SUSPECT with the instance) and provisions again. Concurrent restarts of one workspace coalesce.
    /// Answers false when the workspace cannot restart (removed, external).
    public func restart(_ workspace: Workspace) async throws -> Bool {
        guard !workspace.isExternal else { return false }
        guard isLoaded(workspace.provider) else { throw DispatchError.providerNotLoaded(provider: workspace.provider) }
        let movable: Set<WorkspaceStatus> = [.online, .degraded, .offline, .failed, .paused, .provisioning, .hibernated, .awaitingAgent]
        guard try await store.transition(workspace.id, to: .provisioning, from: movable) else { return false }
        // The old instance must not heartbeat the workspace back to online while it is being replaced: its token dies
        // now, and the new instance gets a fresh one at provision.
        try await tokens.revokeAll(workspace.id)
        let alreadyRunning = restarts.withLock { running -> Bool in
            if running[workspace.id] != nil {
                running[workspace.id] = true  // run once more when the current one ends
                return true
            }
            running[workspace.id] = false
            return false
        }
        if alreadyRunning { return true }
        background.run { [self] in
            var again = true
            while again {
                await restartCycle(workspace)
                again = restarts.withLock { running in
                    if running[workspace.id] == true {
                        running[workspace.id] = false
                        return true
                    }
                    running[workspace.id] = nil
                    return false
                }
            }
        }
        return true
    }

    func restartCycle(_ workspace: Workspace) async {
        let log = logger.with(workspace)
        var backoff = restartBackoff
        var stopped = false
        for attempt in 1...restartStopAttempts {
            do {
                try await stop(workspace)
                stopped = true
                // The old instance is gone: show no instance (rather than a stale one) until the new one is recorded.
                try? await store.setInstance(workspace.id, instanceRef: nil, url: nil)
                break
            } catch {
                log.warning("restart.stop failed", metadata: ["attempt": "\(attempt)", "error": "\(error)"])
                if attempt < restartStopAttempts {
                    try? await Task.sleep(for: backoff)
                    backoff *= 2
                }
            }
        }
        if !stopped {
            log.error(
                "LEAK-SUSPECT: stop failed \(restartStopAttempts) times; provisioning anyway",
                metadata: ["instance": "\(workspace.instanceRef ?? "unknown")", "provider": "\(workspace.provider)"]
            )
        }
        _ = await provisionSync(workspace)
    }

    /// Delete: stops through the provider (and removes storage when `purge`), then marks the row removed and revokes
    /// its tokens. If the provider fails, nothing is marked: the error is returned and the row keeps its status.
    public func delete(_ workspace: Workspace, purge: Bool) async throws {
        if !workspace.isExternal {
            try await stop(workspace)
            if purge {
                let _: RemoveStorageResponse = try await call(.removeStorage, on: workspace.provider, WorkspaceRef(workspaceId: workspace.wireId))
            }
        }
        let removed = try await store.markRemoved(workspace.id)  // revokes the tokens in the same transaction
        tokens.forgetCached(workspace.id)
        if removed { await record("WORKSPACE_REMOVED", workspace.id, ["purge": .bool(purge)]) }
    }

    // MARK: Pause, resume, snapshot

    public func pause(_ workspace: Workspace) async throws {
        let _: InspectResponse = try await call(.pause, on: workspace.provider, WorkspaceRef(workspaceId: workspace.wireId))
        if try await store.transition(workspace.id, to: .paused, from: [.online, .degraded, .offline, .provisioning, .awaitingAgent]) {
            await record("WORKSPACE_PAUSED", workspace.id, [:])
        }
    }

    public func resume(_ workspace: Workspace) async throws {
        let _: InspectResponse = try await call(.resume, on: workspace.provider, WorkspaceRef(workspaceId: workspace.wireId))
        if try await store.transition(workspace.id, to: .online, from: [.paused, .hibernated]) {
            await record("WORKSPACE_RESUMED", workspace.id, [:])
        }
    }

    public func snapshot(_ workspace: Workspace) async throws(DispatchError) -> SnapshotResponse {
        let answer: SnapshotResponse = try await call(.snapshot, on: workspace.provider, WorkspaceRef(workspaceId: workspace.wireId))
        await record("WORKSPACE_SNAPSHOT", workspace.id, ["snapshot_id": .string(answer.snapshotId)])
        return answer
    }

    // MARK: Pass-through verbs

    public func inspect(_ workspace: Workspace) async throws(DispatchError) -> InspectResponse {
        try await call(.inspect, on: workspace.provider, WorkspaceRef(workspaceId: workspace.wireId))
    }

    public func listFiles(_ workspace: Workspace, path: String, depth: Int) async throws(DispatchError) -> ListFilesResponse {
        try await call(.listFiles, on: workspace.provider, ListFilesRequest(workspaceId: workspace.wireId, path: path, depth: depth))
    }

    public func readFile(_ workspace: Workspace, path: String) async throws(DispatchError) -> FileContent {
        try await call(.readFile, on: workspace.provider, FilePathRequest(workspaceId: workspace.wireId, path: path))
    }

    public func writeFile(_ workspace: Workspace, path: String, content: [UInt8]) async throws(DispatchError) -> FileWriteResponse {
        try await call(
            .writeFile, on: workspace.provider,
            WriteFileRequest(workspaceId: workspace.wireId, path: path, contentBase64: Data(content).base64EncodedString())
        )
    }

    public func deleteFile(_ workspace: Workspace, path: String) async throws(DispatchError) -> FileWriteResponse {
        try await call(.deleteFile, on: workspace.provider, FilePathRequest(workspaceId: workspace.wireId, path: path))
    }

    public func installPlugin(_ workspace: Workspace, name: String, archive: [UInt8]) async throws(DispatchError) -> PluginInfo {
        try await call(
            .installPlugin, on: workspace.provider,
            InstallPluginRequest(workspaceId: workspace.wireId, name: name, archiveBase64: Data(archive).base64EncodedString())
        )
    }

    public func uninstallPlugin(_ workspace: Workspace, name: String) async throws(DispatchError) -> PluginInfo {
        try await call(.uninstallPlugin, on: workspace.provider, PluginRef(workspaceId: workspace.wireId, name: name))
    }

    public func listPlugins(_ workspace: Workspace) async throws(DispatchError) -> ListPluginsResponse {
        try await call(.listPlugins, on: workspace.provider, WorkspaceRef(workspaceId: workspace.wireId))
    }

    public func logs(_ workspace: Workspace, tailLines: Int?, cursor: String?) async throws(DispatchError) -> LogsResponse {
        try await call(.logs, on: workspace.provider, LogsRequest(workspaceId: workspace.wireId, tailLines: tailLines, cursor: cursor))
    }

    public func diagnose(_ workspace: Workspace) async throws(DispatchError) -> DiagnoseResponse {
        try await call(.diagnose, on: workspace.provider, WorkspaceRef(workspaceId: workspace.wireId))
    }

    public func removeStorage(_ workspace: Workspace) async throws(DispatchError) -> RemoveStorageResponse {
        try await call(.removeStorage, on: workspace.provider, WorkspaceRef(workspaceId: workspace.wireId))
    }

    // MARK: Reconciliation

    /// The names of the providers serving now.
    public var loadedProviders: [String] { instances.keys.sorted() }

    /// Everything `provider` created for its configured owner (instances, storage, snapshots).
    public func listOwned(provider: String) async throws(DispatchError) -> [OwnedResource] {
        let answer: ListOwnedResponse = try await call(.listOwned, on: provider, ListOwnedRequest())
        return answer.resources
    }

    /// Removes an orphaned resource: stops an instance, or removes storage. Snapshots are never reaped.
    public func reap(provider: String, _ resource: OwnedResource) async throws(DispatchError) {
        switch resource.kind {
        case .instance:
            let _: StopResponse = try await call(.stop, on: provider, WorkspaceRef(workspaceId: resource.workspaceId))
        case .storage:
            let _: RemoveStorageResponse = try await call(.removeStorage, on: provider, WorkspaceRef(workspaceId: resource.workspaceId))
        case .snapshot:
            return
        }
    }

    /// Waits for background lifecycle work, then releases the provider instances.
    public func shutdown() async {
        await background.drain()
        for instance in instances.values { await instance.shutdown() }
    }
}

extension Workspace {
    /// The id as providers see it (lower-case UUID).
    var wireId: String { id.uuidString.lowercased() }
}

extension Logger {
    func with(_ workspace: Workspace) -> Logger {
        var copy = self
        copy[metadataKey: "workspace"] = "\(workspace.id.uuidString.lowercased())"
        return copy
    }
}
