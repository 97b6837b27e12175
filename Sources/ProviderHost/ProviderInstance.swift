import Foundation
import Logging
import ProviderWire
import Synchronization

/// One configured backend: a provider library with a configuration, serving verbs — in a runner process of its own
/// (``ProviderIsolation/process``, the default) or in this process. Callers cannot tell which: both give the same
/// answers, errors and deadlines.
///
/// ``reload(path:)`` swaps the library under load: new calls go to the new one once it has loaded and been created;
/// calls in flight finish on the old one, which is then released. No call is lost or sent twice.
public final class ProviderInstance: Sendable {
    /// Default per-call timeout when the caller gives none.
    public let defaultTimeout: Duration
    /// How this instance runs its provider.
    public let isolation: ProviderIsolation
    private let current: Mutex<Generation>
    private let reloads = Atomic<Int>(0)
    private let launch: ProviderLaunch?
    private let logger: Logger
    private let eventSink: ProviderEventSink?

    /// What the Host knows of the library now serving.
    public var identity: ProviderIdentity { current.withLock { $0.backend.identity } }
    /// The provider's name (from its manifest).
    public var name: String { identity.manifest.name }
    /// Mode, runner pid, restarts, last crash.
    public var runtime: ProviderRuntimeStatus {
        var status = current.withLock { $0.backend.runtime }
        status.reloads = reloads.load(ordering: .relaxed)
        return status
    }

    /// The most recent answers the provider gave after the Host had answered their calls at the deadline (oldest
    /// first): what it did once `is_cancelled` turned non-zero. Survives runner restarts, not reloads.
    public var recentLateAnswers: [LateAnswer] { current.withLock { $0.backend.recentLateAnswers } }

    /// An instance in this process from a library already loaded here (trusted providers, tests, benchmarks).
    public convenience init(
        library: ProviderLibrary,
        configuration: JSONValue = .object([:]),
        threads: Int = 8,
        defaultTimeout: Duration = .seconds(60)
    ) throws(ProviderCallError) {
        let backend = try InProcessProvider(library: library, configuration: configuration, threads: threads)
        self.init(backend: backend, isolation: .inProcess, defaultTimeout: defaultTimeout, launch: nil, logger: library.logger, eventSink: nil)
    }

    private init(
        backend: any ProviderBackend, isolation: ProviderIsolation, defaultTimeout: Duration, launch: ProviderLaunch?, logger: Logger,
        eventSink: ProviderEventSink?
    ) {
        self.current = Mutex(Generation(backend))
        self.isolation = isolation
        self.defaultTimeout = defaultTimeout
        self.launch = launch
        self.logger = logger
        self.eventSink = eventSink
    }

    /// Loads `launch.path` with the chosen isolation and creates the provider's instance.
    public static func start(
        _ launch: ProviderLaunch,
        logger: Logger = Logger(label: "molecule.providers"),
        eventSink: ProviderEventSink? = nil
    ) async throws(ProviderStartError) -> ProviderInstance {
        let backend = try await makeBackend(launch, logger: logger, eventSink: eventSink)
        return ProviderInstance(
            backend: backend, isolation: launch.isolation, defaultTimeout: launch.defaultTimeout, launch: launch, logger: logger, eventSink: eventSink
        )
    }

    private static func makeBackend(
        _ launch: ProviderLaunch, logger: Logger, eventSink: ProviderEventSink?
    ) async throws(ProviderStartError) -> any ProviderBackend {
        switch launch.isolation {
        case .process:
            return try await RunnerSupervisor.start(launch, logger: logger, eventSink: eventSink)
        case .inProcess:
            let library: ProviderLibrary
            do { library = try ProviderLibrary.load(path: launch.path, logger: logger, eventSink: eventSink, timeout: launch.loadTimeout) } catch {
                throw .load(error)
            }
            do {
                return try InProcessProvider(
                    library: library, configuration: launch.configuration, threads: launch.threads, createTimeout: launch.createTimeout)
            } catch { throw .create(path: launch.path, error) }
        }
    }

    /// Calls `verb` with a JSON request; answers the response JSON bytes or throws the provider's (or Host's) error.
    /// Cancelling the calling task makes the provider's `is_cancelled` answer non-zero.
    public func call(_ verb: Verb, request: [UInt8], timeout: Duration? = nil) async throws(ProviderCallError) -> [UInt8] {
        let body = try await rawCall(verb, request: request, timeout: timeout)
        if let invalid = Self.invalidJSONError(body, provider: name, verb: verb) { throw invalid }
        return body
    }

    /// Calls `verb` with an encodable request and decodes the response.
    public func call<Response: Decodable>(
        _ verb: Verb,
        _ request: some Encodable,
        as: Response.Type = Response.self,
        timeout: Duration? = nil
    ) async throws(ProviderCallError) -> Response {
        let bytes: [UInt8]
        do { bytes = try WireCoding.encode(request) } catch {
            throw ProviderCallError(status: .invalidArgument, message: "request is not encodable: \(error)", provider: name, verb: verb)
        }
        let response = try await rawCall(verb, request: bytes, timeout: timeout)
        do {
            return try WireCoding.decode(Response.self, from: response.isEmpty ? Array("{}".utf8) : response)
        } catch {
            if let invalid = Self.invalidJSONError(response, provider: name, verb: verb) { throw invalid }
            throw ProviderCallError(
                status: .internal,
                message: "provider \(name) answered \(verb) with JSON the Host cannot use: \(DecodingErrorText.describe(error))",
                provider: name, verb: verb
            )
        }
    }

    private func rawCall(_ verb: Verb, request: [UInt8], timeout: Duration?) async throws(ProviderCallError) -> [UInt8] {
        let timeout = timeout ?? defaultTimeout
        let deadline = MonotonicClock.now() &+ Self.nanoseconds(timeout)
        let generation = current.withLock { generation in
            generation.enter()
            return generation
        }
        defer { generation.leave() }
        return try await generation.backend.call(verb, request: request, deadline: deadline, timeout: timeout)
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        UInt64(max(0, duration.components.seconds)) * 1_000_000_000 + UInt64(max(0, duration.components.attoseconds / 1_000_000_000))
    }

    /// INTERNAL when `body` is not JSON (checked only where the Host would otherwise pass the bytes on, or to name
    /// the problem after a decode failed).
    static func invalidJSONError(_ body: [UInt8], provider: String, verb: Verb) -> ProviderCallError? {
        guard !body.isEmpty, (try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])) == nil else { return nil }
        return ProviderCallError(
            status: .internal, message: "provider \(provider) answered \(verb) with a body that is not valid JSON", provider: provider, verb: verb)
    }

    /// Loads the library again (from `path`, or the same file), in a fresh runner or instance, and switches new calls
    /// to it once it is created; calls in flight finish on the old one. A library that fails to load, or whose
    /// manifest names another provider, leaves the old one serving and throws why.
    @discardableResult
    public func reload(path: String? = nil) async throws(ProviderStartError) -> ProviderIdentity {
        guard var launch else { throw .notReloadable(name: name) }
        if let path { launch.path = path }
        let backend = try await Self.makeBackend(launch, logger: logger, eventSink: eventSink)
        guard backend.identity.manifest.name == name else {
            let other = backend.identity.manifest.name
            await backend.shutdown()
            throw .nameChanged(path: launch.path, expected: name, found: other)
        }
        let old = current.withLock { generation in
            let old = generation
            generation = Generation(backend)
            return old
        }
        reloads.add(1, ordering: .relaxed)
        logger.info(
            "provider reloaded", metadata: ["provider": "\(name)", "path": "\(launch.path)", "version": "\(backend.identity.manifest.version)"])
        Task { await old.retire() }
        return backend.identity
    }

    /// Calls `verb` on the calling thread, blocking it, with no deadline timer — for benchmarks that measure the ABI
    /// crossing itself (in-process instances only). Never call it from async code.
    @_spi(Benchmarks)
    public func invokeOnCurrentThread(_ verb: Verb, request: [UInt8]) -> Result<[UInt8], ProviderCallError> {
        guard let backend = current.withLock({ $0.backend }) as? InProcessProvider else {
            return .failure(ProviderCallError(status: .unsupported, message: "only in-process instances", provider: name, verb: verb))
        }
        return backend.invokeOnCurrentThread(verb, request: request)
    }

    /// Waits for calls in flight, then releases the provider (and ends its runner). Safe to call more than once.
    public func shutdown() async {
        let generation = current.withLock { $0 }
        await generation.retire()
    }
}

/// The backend serving calls, with the count of calls in flight on it (so a reload can wait for them).
final class Generation: Sendable {
    let backend: any ProviderBackend
    private let state = Mutex<(inFlight: Int, waiters: [CheckedContinuation<Void, Never>])>((0, []))

    init(_ backend: any ProviderBackend) { self.backend = backend }

    func enter() { state.withLock { $0.inFlight += 1 } }

    func leave() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.inFlight -= 1
            guard state.inFlight == 0 else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Waits until no call is in flight, then shuts the backend down.
    func retire() async {
        await withCheckedContinuation { continuation in
            let idle = state.withLock { state -> Bool in
                if state.inFlight == 0 { return true }
                state.waiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
        await backend.shutdown()
    }
}
