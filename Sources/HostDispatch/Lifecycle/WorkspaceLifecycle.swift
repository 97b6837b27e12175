import Foundation
import HostStore
import Logging
import Metrics
import ProviderWire

/// The one type that moves a workspace between statuses.
///
/// Every change follows an edge of ``WorkspaceTransition``'s table, through the guarded store statements in
/// `WorkspaceStore+Lifecycle.swift`, and is recorded in one place (``emit(_:_:_:)``: the status event, the transition
/// counter, the log line). Create, restart (coalesced), pause, resume, delete, registration, heartbeats, the sweepers
/// and recovery all call it; nothing else writes `status` (a source test enforces it). Provider calls go through the
/// ``Dispatcher``.
public final class WorkspaceLifecycle: Sendable {
    let store: WorkspaceStore
    let tokens: TokenStore
    let events: EventStore
    /// The verb router (and through it the loaded providers).
    public let dispatcher: Dispatcher
    let platformURL: String
    /// Workspace templates (`template` in a create).
    public let templates: TemplateLibrary
    let settings: Settings
    let logger: Logger
    /// Lifecycle work that outlives its request (provisions, restarts); a graceful shutdown waits for it.
    public let background = BackgroundTasks()
    let restarts = RestartCoalescer()
    private let transitions = Counter(label: "molecule_status_transitions_total")

    /// Bounds of the lifecycle's retries.
    public struct Settings: Sendable {
        /// Stop attempts of a restart, and the first backoff (doubling); then LEAK-SUSPECT and provision anyway.
        public var restartStopAttempts: Int
        public var restartBackoff: Duration
        /// Provisions of one row interrupted without any answer (the Host or the runner died mid-call) before
        /// recovery stops retrying it and marks it failed.
        public var maxProvisionAttempts: Int

        public init(restartStopAttempts: Int = 3, restartBackoff: Duration = .seconds(1), maxProvisionAttempts: Int = 3) {
            self.restartStopAttempts = max(1, restartStopAttempts)
            self.restartBackoff = restartBackoff
            self.maxProvisionAttempts = max(1, maxProvisionAttempts)
        }
    }

    public init(
        store: WorkspaceStore, tokens: TokenStore, events: EventStore, dispatcher: Dispatcher, platformURL: String, settings: Settings = Settings(),
        templates: TemplateLibrary = TemplateLibrary(root: nil), logger: Logger = Logger(label: "molecule.lifecycle")
    ) {
        self.templates = templates
        self.store = store
        self.tokens = tokens
        self.events = events
        self.dispatcher = dispatcher
        self.platformURL = platformURL
        self.settings = settings
        self.logger = logger
    }

    /// The loaded providers.
    public var providers: ProviderSet { dispatcher.providers }

    /// Recovery's bound on unanswered provisions.
    public var maxProvisionAttempts: Int { settings.maxProvisionAttempts }

    // MARK: The one way a status changes

    /// Performs `transition` on `id` if its guard allows (and, with `minimumSeconds`, the row has been in its status
    /// that long), and records it. True when the workspace moved.
    @discardableResult
    public func apply(
        _ transition: WorkspaceTransition, to id: UUID, message: FailureMessage? = nil, payload: [String: JSONValue] = [:],
        minimumSeconds: Int? = nil
    ) async throws -> Bool {
        guard try await store.moveStatus(id, by: transition, message: message, minimumSeconds: minimumSeconds) else { return false }
        await emit(transition, id, payload.merging(message.map { ["error": .string($0.text)] } ?? [:]) { given, _ in given })
        return true
    }

    /// Records a transition that happened: the event (with `transition` and `to`), the counter, the log line.
    func emit(_ transition: WorkspaceTransition, _ id: UUID, _ payload: [String: JSONValue]) async {
        transitions.increment()
        var payload = payload
        payload["transition"] = .string(transition.name)
        payload["to"] = .string(transition.to.rawValue)
        logger.info("workspace.\(transition.name)", metadata: ["workspace": "\(id.uuidString.lowercased())", "to": "\(transition.to.rawValue)"])
        await record(transition.event, id, payload)
    }

    /// Records an event that is not a status change (created, provisioned, snapshot, adopted, tokens revoked).
    public func record(_ type: String, _ id: UUID, _ payload: [String: JSONValue]) async {
        do { try await events.record(type, workspaceId: id, payload: payload) } catch {
            logger.warning("event not recorded", metadata: ["event": "\(type)", "error": "\(error)"])
        }
    }

    // MARK: Pause, resume, delete

    /// Pauses through the provider, then moves the row to paused.
    public func pause(_ workspace: Workspace) async throws {
        try await dispatcher.pause(workspace)
        try await apply(.pause, to: workspace.id)
    }

    /// Resumes through the provider, then moves the row to online.
    public func resume(_ workspace: Workspace) async throws {
        try await dispatcher.resume(workspace)
        try await apply(workspace.agent ? .resume : .resumePlain, to: workspace.id)
    }

    /// Stops through the provider (and removes storage when `purge`), then marks the row removed and revokes its
    /// tokens. If the provider fails, nothing is marked: the error is thrown and the row keeps its status.
    public func delete(_ workspace: Workspace, purge: Bool) async throws {
        if !workspace.isExternal {
            try await dispatcher.stop(workspace)
            if purge { _ = try await dispatcher.removeStorage(workspace) }
        }
        let removed = try await store.removeWorkspace(workspace.id)  // revokes the tokens in the same transaction
        tokens.forgetCached(workspace.id)
        if removed { await emit(.remove, workspace.id, ["purge": .bool(purge)]) }
    }

    /// Waits for background lifecycle work, then releases the providers.
    public func shutdown() async {
        await background.drain()
        await providers.shutdown()
    }
}

extension Logger {
    func with(_ workspace: Workspace) -> Logger {
        var copy = self
        copy[metadataKey: "workspace"] = "\(workspace.id.uuidString.lowercased())"
        return copy
    }
}
