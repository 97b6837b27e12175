import Foundation
import HostDispatch
import HostStore
import Logging
import Metrics
import ProviderWire
import ServiceLifecycle
import Synchronization

/// The reconciliation loops: the database and every provider converge, whatever crashed.
///
/// Each loop ticks every `intervalMs`; a tick runs only on the replica that claims it in `sweeper_ticks`, so with
/// several Hosts on one database every pass runs exactly once. A loop survives its own errors and reports its last
/// tick in `GET /admin/liveness`. Every provider is reached through the dispatcher — no backend-specific checker.
public final class Reconciler: Service, Sendable {
    /// One loop's health, as `/admin/liveness` shows it.
    public struct Liveness: Sendable, Codable {
        public var lastTickAt: Date?
        public var lastPassAt: Date?
        public var passes: Int
        public var lastError: String?

        enum CodingKeys: String, CodingKey {
            case lastTickAt = "last_tick_at"
            case lastPassAt = "last_pass_at"
            case passes
            case lastError = "last_error"
        }
    }

    let settings: SweeperSettings
    let store: WorkspaceStore
    let tokens: TokenStore
    let reconciliation: ReconciliationStore
    /// Every status change goes through it; every provider call through its dispatcher.
    let lifecycle: WorkspaceLifecycle
    var dispatcher: Dispatcher { lifecycle.dispatcher }
    let logger: Logger
    /// This replica's name in `sweeper_ticks`.
    public let holder: String
    /// When this Host started: recovery only looks at rows that were already in flight before it.
    let bootedAt = Date()
    private let liveness = Mutex<[String: Liveness]>([:])

    public init(
        settings: SweeperSettings, store: WorkspaceStore, tokens: TokenStore, reconciliation: ReconciliationStore, lifecycle: WorkspaceLifecycle,
        logger: Logger
    ) {
        self.settings = settings
        self.store = store
        self.tokens = tokens
        self.reconciliation = reconciliation
        self.lifecycle = lifecycle
        self.logger = logger
        self.holder = "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UUID().uuidString.prefix(6))"
    }

    /// The loops and their passes.
    var loops: [(name: String, pass: @Sendable () async throws -> Void)] {
        [
            ("provision-timeout", { try await self.provisionTimeoutPass() }),
            ("health", { try await self.healthPass() }),
            ("orphans", { try await self.orphanPass() }),
            ("stale-tokens", { try await self.staleTokenPass() }),
        ]
    }

    public var snapshot: [String: Liveness] { liveness.withLock { $0 } }

    public func run() async throws {
        guard settings.enabled else { return }
        await cancelWhenGracefulShutdown {
            await self.runOnce(name: "recovery") { try await self.recoveryPass() }
            await withTaskGroup(of: Void.self) { group in
                for loop in self.loops {
                    group.addTask {
                        while !Task.isCancelled {
                            await self.runOnce(name: loop.name, loop.pass)
                            try? await Task.sleep(for: .milliseconds(self.settings.intervalMs))
                        }
                    }
                }
            }
        }
    }

    /// One tick: claim the slot, run the pass, record liveness. Errors are logged and kept for liveness.
    func runOnce(name: String, _ pass: @Sendable () async throws -> Void) async {
        let slot = Int64(Date().timeIntervalSince1970 * 1000) / Int64(max(1, settings.intervalMs))
        var failure: String?
        var ran = false
        do {
            if try await reconciliation.claimTick(sweeper: name, slot: slot, holder: holder) {
                ran = true
                try await pass()
                Counter(label: "molecule_sweeper_passes_total", dimensions: [("sweeper", name)]).increment()
            }
        } catch {
            logger.warning("sweeper pass failed", metadata: ["sweeper": "\(name)", "error": "\(error)"])
            failure = "\(error)"
        }
        liveness.withLock { all in
            var entry = all[name] ?? Liveness(passes: 0)
            entry.lastTickAt = Date()
            if ran {
                entry.passes += 1
                entry.lastPassAt = Date()
            }
            entry.lastError = failure
            all[name] = entry
        }
    }

    func record(_ type: String, _ id: UUID, _ payload: [String: JSONValue]) async {
        await lifecycle.record(type, id, payload)
    }

    // MARK: Passes

    /// Rows stuck in `provisioning` past their runtime's timeout become `failed`, saying what timed out.
    func provisionTimeoutPass() async throws {
        for row in try await reconciliation.candidates(in: [.provisioning]) {
            let timeout = settings.provisionTimeout(runtime: row.runtime)
            guard row.secondsInStatus >= Double(timeout) else { continue }
            // A plain workload never registers: its provision's answer moves it, never a timeout.
            let workspace = try await store.get(row.id)
            if workspace?.agent == false { continue }
            let message = FailureMessage(
                "provisioning timed out after \(timeout) s: the \(row.provider) instance never registered with the Host "
                    + "(runtime \(row.runtime)); check the workspace's boot log"
            )
            let payload: [String: JSONValue] = ["timeout_secs": .number(Double(timeout)), "source": "provision_timeout_sweep"]
            if try await lifecycle.apply(.provisionTimedOut, to: row.id, message: message, payload: payload, minimumSeconds: timeout) {
                logger.warning("provision timed out", metadata: ["workspace": "\(row.id)", "timeout": "\(timeout)"])
                // A failed workspace keeps no instance: whatever started without registering is stopped.
                if lifecycle.providers.isLoaded(row.provider), let workspace {
                    do { try await dispatcher.stop(workspace) } catch {
                        logger.error(
                            "could not stop the instance of a timed-out workspace", metadata: ["workspace": "\(row.id)", "error": "\(error)"])
                    }
                }
            }
        }
    }

    /// Online/degraded/running workspaces whose instance is gone → failed when the provider names why (a limit hit, a
    /// crash), else offline (every provider, through the dispatcher); external workspaces with a stale heartbeat →
    /// awaiting_agent.
    func healthPass() async throws {
        for row in try await reconciliation.candidates(in: [.online, .degraded, .running]) {
            if row.runtime == "external" {
                if let stale = row.secondsSinceHeartbeat, stale >= Double(settings.remoteStaleAfterSeconds) {
                    try await lifecycle.apply(.agentStale, to: row.id, payload: ["stale_seconds": .number(stale)])
                }
                continue
            }
            guard lifecycle.providers.isLoaded(row.provider), let workspace = try await store.get(row.id) else { continue }
            let inspected: InspectResponse
            do { inspected = try await dispatcher.inspect(workspace) } catch { continue }  // unknown is not dead
            let state = inspected.state
            if state == .absent || state == .stopped, let failure = inspected.failure {
                let message = FailureMessage("the \(row.provider) instance ended: \(failure)")
                let payload: [String: JSONValue] = ["instance_state": .string(state.rawValue), "source": "health_sweep"]
                if try await lifecycle.apply(.instanceFailed, to: row.id, message: message, payload: payload) {
                    logger.warning("instance failed", metadata: ["workspace": "\(row.id)", "reason": "\(failure)"])
                    // A failed workspace keeps no instance: whatever is left of it is stopped.
                    if let failed = try await store.get(row.id) { try? await dispatcher.stop(failed) }
                }
                continue
            }
            var lostPayload: [String: JSONValue] = ["instance_state": .string(state.rawValue), "source": "health_sweep"]
            if let ended = inspected.ended { lostPayload["ended"] = .string(ended) }
            if state == .absent || state == .stopped,
                try await lifecycle.apply(
                    .instanceLost, to: row.id, message: inspected.ended.map { FailureMessage("the \(row.provider) instance ended: \($0)") },
                    payload: lostPayload)
            {
                logger.warning("instance gone; workspace offline", metadata: ["workspace": "\(row.id)", "provider": "\(row.provider)"])
                if settings.restartOnOffline, let offline = try await store.get(row.id) {
                    _ = try? await lifecycle.restart(offline)
                }
            }
        }
    }

    /// What each provider owns versus the rows: an instance or storage with no row (or a removed row) is reaped after
    /// the grace period. Snapshots are kept. Other owners' resources are never listed, so never touched.
    func orphanPass() async throws {
        var failures: [String] = []
        for provider in lifecycle.providers.loaded {
            // One provider's failing list_owned never stops the pass for the others.
            let resources: [OwnedResource]
            do { resources = try await dispatcher.listOwned(provider: provider) } catch {
                logger.warning("orphan pass: provider skipped", metadata: ["provider": "\(provider)", "error": "\(error)"])
                failures.append("\(provider): \(error)")
                continue
            }
            let ids = resources.compactMap { UUID(uuidString: $0.workspaceId) }
            let statuses = try await reconciliation.statuses(of: ids)
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            for resource in resources where resource.kind != .snapshot {
                let status = UUID(uuidString: resource.workspaceId).flatMap { statuses[$0] }
                guard status == nil || status == .removed else { continue }
                guard now - resource.createdAtMs >= Int64(settings.orphanGraceSeconds) * 1000 else { continue }
                let dimensions = [("provider", provider), ("kind", resource.kind.rawValue), ("dry_run", settings.orphanDryRun ? "true" : "false")]
                Counter(label: "molecule_orphans_total", dimensions: dimensions).increment()
                logger.warning(
                    settings.orphanDryRun ? "orphan found (dry run: left alone)" : "orphan reaped",
                    metadata: [
                        "provider": "\(provider)", "workspace": "\(resource.workspaceId)", "kind": "\(resource.kind.rawValue)",
                        "ref": "\(resource.ref)", "row": "\(status?.rawValue ?? "none")",
                    ]
                )
                if !settings.orphanDryRun {
                    do { try await dispatcher.reap(provider: provider, resource) } catch {
                        logger.error("orphan reap failed", metadata: ["provider": "\(provider)", "ref": "\(resource.ref)", "error": "\(error)"])
                    }
                }
            }
        }
        if !failures.isEmpty { throw OrphanPassFailure(failures: failures) }
    }

    /// The providers an orphan pass could not list (the others were reconciled); kept in `/admin/liveness`.
    struct OrphanPassFailure: Error, CustomStringConvertible {
        let failures: [String]
        var description: String { "list_owned failed for \(failures.joined(separator: "; "))" }
    }

    /// Live tokens of non-external workspaces that are failed or offline and have no live instance are revoked.
    /// External workspaces (no instance by design) are never touched.
    func staleTokenPass() async throws {
        for row in try await reconciliation.withLiveTokens(in: [.failed, .offline]) {
            guard lifecycle.providers.isLoaded(row.provider), let workspace = try await store.get(row.id), !workspace.isExternal else { continue }
            guard let state = try? await dispatcher.inspect(workspace).state, state == .absent || state == .stopped else { continue }
            try await tokens.revokeAll(row.id)
            await record("WORKSPACE_TOKENS_REVOKED", row.id, ["source": "stale_token_sweep"])
        }
    }

    /// At start: rows left in provisioning or hibernating by a Host that died are re-inspected — a running instance
    /// is adopted (the agent registers or the timeout fails it), a missing one is provisioned again.
    func recoveryPass() async throws {
        let uptime = Date().timeIntervalSince(bootedAt)
        for row in try await reconciliation.candidates(in: [.provisioning, .hibernating]) where row.runtime != "external" {
            // A row that entered provisioning after this Host started is this Host's own in-flight work.
            guard row.secondsInStatus > uptime + 1 else { continue }
            guard lifecycle.providers.isLoaded(row.provider), let workspace = try await store.get(row.id) else { continue }
            let inspected: InspectResponse
            do { inspected = try await dispatcher.inspect(workspace) } catch { continue }
            switch inspected.state {
            case .running, .starting, .paused:
                try await store.setInstance(row.id, instanceRef: inspected.instanceRef, url: nil)
                await record("WORKSPACE_ADOPTED", row.id, ["instance_ref": inspected.instanceRef.map(JSONValue.string) ?? .null])
            case .stopped, .absent:
                if row.status == .hibernating {
                    try await lifecycle.apply(.hibernationSettled, to: row.id, payload: ["source": "recovery"])
                } else if try await store.provisionAttempts(row.id) >= lifecycle.maxProvisionAttempts {
                    // No crash loop: a row whose provision never answered this often is not driven again.
                    let attempts = try await store.provisionAttempts(row.id)
                    let message = FailureMessage(
                        "provisioning was interrupted \(attempts) times without an answer from the \(row.provider) provider "
                            + "(its runner or the Host died during the call); not retried. Check the provider, then restart the workspace"
                    )
                    let payload: [String: JSONValue] = ["attempts": .number(Double(attempts)), "source": "recovery"]
                    if try await lifecycle.apply(.provisionAbandoned, to: row.id, message: message, payload: payload) {
                        logger.error(
                            "recovery: provision keeps crashing; marked failed", metadata: ["workspace": "\(row.id)", "attempts": "\(attempts)"])
                    }
                } else {
                    logger.info("recovery: provisioning again", metadata: ["workspace": "\(row.id)"])
                    lifecycle.provision(workspace)
                }
            }
        }
    }
}
