import Foundation
import HostDispatch
import HostStore
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import ProviderWire
import Synchronization

/// The assembled Host: stores, dispatcher (with its providers loaded), heartbeat coalescer and HTTP application.
public final class HostServer: @unchecked Sendable {
    public let configuration: HostConfiguration
    public let dispatcher: Dispatcher
    public let store: WorkspaceStore
    public let tokens: TokenStore
    public let heartbeats: HeartbeatCoalescer
    public let reconciler: Reconciler
    let context: HostContext
    let router: Router<BasicRequestContext>
    /// Every route as `method path` (OpenAPI form), for the document check.
    public let routes: [(method: String, path: String)]
    let logger: Logger

    private static let metricsBootstrapped = Mutex(false)
    /// The process-wide metrics registry (`GET /metrics`).
    public static let metricsRegistry = PrometheusCollectorRegistry()

    public init(configuration: HostConfiguration, pool: PostgresPool, logger: Logger) async {
        Self.metricsBootstrapped.withLock { done in
            if !done {
                MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: Self.metricsRegistry))
                done = true
            }
        }
        self.configuration = configuration
        self.logger = logger
        let store = WorkspaceStore(pool: pool)
        let tokens = TokenStore(pool: pool)
        let events = EventStore(pool: pool)
        self.store = store
        self.tokens = tokens
        let dispatcher = await Dispatcher(
            specs: configuration.providers, defaultProvider: configuration.defaultProvider,
            allowedProviders: configuration.allowedProviders, store: store, tokens: tokens, events: events,
            platformURL: configuration.resolvedPlatformURL, restartStopAttempts: configuration.restartStopAttempts,
            restartBackoff: .milliseconds(configuration.restartBackoffMs), maxProvisionAttempts: configuration.maxProvisionAttempts, logger: logger
        )
        self.dispatcher = dispatcher
        let transitions = Counter(label: "molecule_status_transitions_total")
        let heartbeats = HeartbeatCoalescer(store: store, interval: .milliseconds(max(1, configuration.heartbeatFlushMs)), logger: logger) {
            changes in
            transitions.increment(by: changes.count)
            for change in changes {
                try? await events.record(
                    change.to == .online ? "WORKSPACE_ONLINE" : "WORKSPACE_\(change.to.rawValue.uppercased())", workspaceId: change.id,
                    payload: ["from": .string(change.from.rawValue), "to": .string(change.to.rawValue), "source": "heartbeat"]
                )
            }
        }
        self.heartbeats = heartbeats
        let reconciler = Reconciler(
            settings: configuration.sweepers, store: store, tokens: tokens, events: events, reconciliation: ReconciliationStore(pool: pool),
            dispatcher: dispatcher, logger: logger
        )
        self.reconciler = reconciler
        let context = HostContext(
            configuration: configuration, store: store, tokens: tokens, events: events, dispatcher: dispatcher, heartbeats: heartbeats,
            metrics: Self.metricsRegistry, logger: logger
        )
        self.context = context
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: MetricsMiddleware())
        let table = RouteTable(router: router, authorizer: context.authorizer)
        SystemRoutes(host: context).register(table)
        table.add(.get, "/admin/liveness", .admin) { _, _ in
            try JSONResponse.make(["holder": .string(reconciler.holder), "subsystems": try WireCoding.decode(JSONValue.self, from: JSONResponse.encoder.encode(reconciler.snapshot))] as JSONValue)
        }
        WorkspaceRoutes(host: context).register(table)
        WorkspaceResourceRoutes(host: context).register(table)
        RegistryRoutes(host: context).register(table)
        self.router = router
        self.routes = table.entries.map { ($0.method, $0.path) }
    }

    /// The HTTP application, with the coalescer as a companion service (shut down after the server).
    public func application(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "molecule-host"),
            services: [heartbeats, reconciler],
            onServerRunning: onServerRunning,
            logger: logger
        )
    }

    /// Serves until SIGTERM/SIGINT (graceful: the server stops accepting, then the coalescer flushes).
    public func run(onListening: @escaping @Sendable () -> Void = {}) async throws {
        try await application { _ in onListening() }.runService()
    }

    /// Waits for in-flight lifecycle work (provisions, restarts), then releases providers.
    public func shutdown() async {
        await heartbeats.flush()
        await dispatcher.shutdown()
    }
}

import NIOCore
