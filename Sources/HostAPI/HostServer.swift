import Foundation
import HostDispatch
import HostStore
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import ProviderWire
import ServiceLifecycle
import Synchronization

/// The assembled Host: stores, dispatcher (with its providers loaded), heartbeat coalescer and HTTP application.
public final class HostServer: @unchecked Sendable {
    public let configuration: HostConfiguration
    public let dispatcher: Dispatcher
    /// Every status change goes through it.
    public let lifecycle: WorkspaceLifecycle
    public let store: WorkspaceStore
    public let tokens: TokenStore
    public let heartbeats: HeartbeatCoalescer
    public let reconciler: Reconciler
    let context: HostContext
    let router: Router<HostRequestContext>
    /// Every route as `method path` (OpenAPI form), for the document check.
    public let routes: [(method: String, path: String)]
    /// Every route with who may call it (`open`, `admin`, `workspace`, `registry`), for the route/principal test.
    public let routeAccess: [(method: String, path: String, access: String)]
    /// `path` (OpenAPI form) as Hummingbird's router spells it.
    public static func routerForm(_ path: String) -> String { RouteTable.routerPath(path) }
    /// What Hummingbird's router holds (`METHOD path` in its own form), to check that no route escaped the table.
    public var registeredRoutes: [(method: String, path: String)] { router.routes.map { ($0.method.rawValue.lowercased(), "\($0.path)") } }
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
        let providers = await ProviderSet(
            specs: configuration.providers, defaultProvider: configuration.defaultProvider, allowedProviders: configuration.allowedProviders,
            logger: logger
        )
        let dispatcher = Dispatcher(providers: providers)
        self.dispatcher = dispatcher
        let lifecycle = WorkspaceLifecycle(
            store: store, tokens: tokens, events: events, dispatcher: dispatcher, platformURL: configuration.resolvedPlatformURL,
            settings: .init(
                restartStopAttempts: configuration.restartStopAttempts, restartBackoff: .milliseconds(configuration.restartBackoffMs),
                maxProvisionAttempts: configuration.maxProvisionAttempts
            ),
            templates: TemplateLibrary(root: configuration.templatesDirectory), logger: logger
        )
        self.lifecycle = lifecycle
        let heartbeats = HeartbeatCoalescer(lifecycle: lifecycle, interval: .milliseconds(max(1, configuration.heartbeatFlushMs)), logger: logger)
        self.heartbeats = heartbeats
        let reconciler = Reconciler(
            settings: configuration.sweepers, store: store, tokens: tokens, reconciliation: ReconciliationStore(pool: pool), lifecycle: lifecycle,
            logger: logger
        )
        self.reconciler = reconciler
        let context = HostContext(
            configuration: configuration, store: store, tokens: tokens, events: events, lifecycle: lifecycle, heartbeats: heartbeats,
            metrics: Self.metricsRegistry, logger: logger
        )
        self.context = context
        let router = Router(context: HostRequestContext.self)
        // Outermost first: metrics record the status actually sent (after errors are converted), then errors become
        // JSON, then a client over its share of concurrent requests is answered 429 before any work.
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ErrorMiddleware())
        let table = RouteTable(router: router, authorizer: context.authorizer, bodyLimit: configuration.maxRegistryBodyBytes)
        router.add(middleware: MethodNotAllowedMiddleware(routes: table))
        router.add(middleware: ConcurrencyLimitMiddleware(limit: configuration.maxConcurrentRequestsPerClient))
        SystemRoutes(host: context).register(table)
        table.add(.get, "/admin/liveness", .admin) { _, _ in
            try JSONResponse.make(
                [
                    "holder": .string(reconciler.holder),
                    "subsystems": try WireCoding.decode(JSONValue.self, from: JSONResponse.encoder.encode(reconciler.snapshot)),
                ] as JSONValue)
        }
        WorkspaceRoutes(host: context).register(table)
        WorkspaceResourceRoutes(host: context).register(table)
        RegistryRoutes(host: context).register(table)
        self.router = router
        self.routes = table.entries.map { ($0.method, $0.path) }
        self.routeAccess = table.entries.map { ($0.method, $0.path, $0.access.rawValue) }
    }

    /// The HTTP application, with the coalescer as a companion service (shut down after the server).
    public func application(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [ConnectionMonitorHandler()])),
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
        await lifecycle.shutdown()
    }
}
