import Foundation
import HostDispatch
import HostStore
import Hummingbird
import Logging
import Prometheus
import ProviderWire

/// Everything a request handler needs: the stores, the dispatcher, the coalescer, configuration and metrics.
final class HostContext: Sendable {
    let configuration: HostConfiguration
    let store: WorkspaceStore
    let tokens: TokenStore
    let events: EventStore
    let lifecycle: WorkspaceLifecycle
    var dispatcher: Dispatcher { lifecycle.dispatcher }
    let heartbeats: HeartbeatCoalescer
    let authorizer: Authorizer
    let metrics: PrometheusCollectorRegistry
    let logger: Logger
    private let secrets = CacheBox<[UUID: String]>([:])

    init(
        configuration: HostConfiguration, store: WorkspaceStore, tokens: TokenStore, events: EventStore, lifecycle: WorkspaceLifecycle,
        heartbeats: HeartbeatCoalescer, metrics: PrometheusCollectorRegistry, logger: Logger
    ) {
        self.configuration = configuration
        self.store = store
        self.tokens = tokens
        self.events = events
        self.lifecycle = lifecycle
        self.heartbeats = heartbeats
        self.metrics = metrics
        self.logger = logger
        self.authorizer = Authorizer(adminToken: configuration.adminToken, development: configuration.environment == .development, tokens: tokens)
    }

    /// The workspace of the `:id` parameter: 400 for a bad id, 404 unknown, 410 removed (unless `includeRemoved`).
    func workspace(_ context: HostRequestContext, _ request: Request, includeRemoved: Bool = false) async throws -> Workspace {
        let id = try context.workspaceId()
        guard let workspace = try await store.get(id) else { throw APIError.notFound("workspace \(id.uuidString.lowercased()) not found") }
        if workspace.status == .removed && !includeRemoved { throw gone(workspace) }
        return workspace
    }

    func gone(_ workspace: Workspace) -> APIError {
        APIError(
            .gone, "gone", "workspace removed",
            extra: [
                "id": .string(workspace.id.uuidString.lowercased()),
                "removed_at": workspace.removedAt.map { .string(ISO8601DateFormatter().string(from: $0)) } ?? .null,
                "hint": "GET /workspaces/:id?include_removed=true shows the removed row",
            ]
        )
    }

    /// The platform→agent secret, cached with write-through (minted on first use).
    func inboundSecret(_ id: UUID) async throws -> String? {
        if let cached = secrets.read({ $0[id] }) { return cached }
        let secret = try await store.inboundSecret(id) { TokenStore.generate() }
        if let secret { secrets.update { $0[id] = secret } }
        return secret
    }

    func record(_ type: String, _ id: UUID, _ payload: [String: JSONValue]) async { await lifecycle.record(type, id, payload) }

    func encodeObject(_ value: some Encodable) throws -> [String: JSONValue] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return try JSONDecoder().decode(JSONValue.self, from: encoder.encode(value)).objectValue ?? [:]
    }
}
