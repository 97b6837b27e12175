import Foundation
import Logging
import NIOPosix
import ProviderABI
import ProviderWire
import Synchronization

/// One configured backend: an `mp_instance` created from a provider library and a configuration, with its own
/// worker threads. Every verb runs on those threads — never on Swift's cooperative pool or an event loop — and is
/// bounded by its deadline.
///
/// A verb that overruns is answered DEADLINE_EXCEEDED at the deadline; its thread stays busy until the provider
/// returns, and its late result is released and dropped. When every worker thread is stuck past a deadline, further
/// calls fail fast with UNAVAILABLE instead of queueing behind them.
public final class ProviderInstance: Sendable {
    /// The library this instance came from.
    public let library: ProviderLibrary
    /// Default per-call timeout when the caller gives none.
    public let defaultTimeout: Duration
    nonisolated(unsafe) private let instance: OpaquePointer
    private let pool: NIOThreadPool
    private let threadCount: Int
    private let stuckCalls = Atomic<Int>(0)
    private let destroyed = Atomic<Bool>(false)
    private static let nextCallId = Atomic<UInt64>(1)

    /// The provider's name (from its manifest).
    public var name: String { library.manifest.name }

    /// Creates an instance: calls the provider's `create` with `configuration` (a JSON object).
    public init(
        library: ProviderLibrary,
        configuration: JSONValue = .object([:]),
        threads: Int = 8,
        defaultTimeout: Duration = .seconds(60)
    ) throws(ProviderCallError) {
        self.library = library
        self.defaultTimeout = defaultTimeout
        self.threadCount = max(1, threads)
        let name = library.manifest.name
        let configBytes: [UInt8]
        do { configBytes = try WireCoding.encode(configuration) } catch {
            throw ProviderCallError(status: .invalidArgument, message: "configuration is not encodable: \(error)", provider: name, verb: .describe)
        }
        var error = mp_result()
        error.struct_size = UInt32(MemoryLayout<mp_result>.size)
        let created = configBytes.withUnsafeBufferPointer { buffer in
            library.vtable.create!(mp_bytes(ptr: buffer.baseAddress, len: buffer.count), &error)
        }
        guard let created else {
            let answer = Self.collect(&error, library: library)
            library.vtable.free_result?(&error)
            throw ProviderCallError(
                status: ProviderStatus(rawValue: answer.status).map { $0 == .ok ? .internal : $0 } ?? .internal,
                message: answer.message ?? "create returned NULL without a message",
                provider: name,
                verb: .describe
            )
        }
        self.instance = created
        self.pool = NIOThreadPool(numberOfThreads: threadCount)
        pool.start()
    }

    deinit {
        pool.shutdownGracefully { _ in }
    }

    /// Calls `verb` with a JSON request; answers the response JSON bytes or throws the provider's (or Host's) error.
    public func call(_ verb: Verb, request: [UInt8], timeout: Duration? = nil) async throws(ProviderCallError) -> [UInt8] {
        try await call(verb, request: request, timeout: timeout, validateJSON: true)
    }

    private func call(_ verb: Verb, request: [UInt8], timeout: Duration?, validateJSON: Bool) async throws(ProviderCallError) -> [UInt8] {
        guard let function = library.slot(verb) else {
            throw ProviderCallError(status: .unsupported, message: "provider \(name) does not support \(verb)", provider: name, verb: verb)
        }
        let timeout = timeout ?? defaultTimeout
        let nanoseconds = max(0, timeout.components.seconds) * 1_000_000_000 + max(0, timeout.components.attoseconds / 1_000_000_000)
        if stuckCalls.load(ordering: .relaxed) >= threadCount {
            throw ProviderCallError(
                status: .unavailable,
                message: "provider \(name): all \(threadCount) worker threads are stuck in calls that overran their deadline",
                provider: name, verb: verb
            )
        }
        let deadline = MonotonicClock.now() &+ UInt64(nanoseconds)
        let state = CallState()
        let callId = Self.nextCallId.wrappingAdd(1, ordering: .relaxed).oldValue
        let result: Result<[UInt8], ProviderCallError> = await withCheckedContinuation { continuation in
            let timer = DeadlineWatchdog.shared.schedule(at: deadline) {
                guard state.claimAnswer() else { return }
                state.abandon()
                self.stuckCalls.add(1, ordering: .relaxed)
                continuation.resume(returning: .failure(self.deadlineError(verb, timeout)))
            }
            pool.submit { _ in
                // A call whose deadline passed while it waited for a thread is answered without calling the provider.
                let outcome: Result<[UInt8], ProviderCallError> =
                    MonotonicClock.now() >= deadline
                    ? .failure(self.deadlineError(verb, timeout))
                    : self.invoke(function, verb: verb, callId: callId, deadline: deadline, state: state, request: request)
                if state.claimAnswer() {
                    DeadlineWatchdog.shared.cancel(timer)
                    continuation.resume(returning: outcome)
                } else {
                    self.stuckCalls.subtract(1, ordering: .relaxed)
                    self.library.logger.notice(
                        "late result discarded", metadata: ["provider": "\(self.name)", "verb": "\(verb)", "call": "\(callId)"]
                    )
                }
            }
        }
        let body = try result.get()
        if validateJSON, let invalid = Answer.invalidJSONError(body, provider: name, verb: verb) { throw invalid }
        return body
    }

    private func deadlineError(_ verb: Verb, _ timeout: Duration) -> ProviderCallError {
        ProviderCallError(
            status: .deadlineExceeded, message: "provider \(name) did not answer \(verb) within \(timeout)", provider: name, verb: verb
        )
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
        let response = try await call(verb, request: bytes, timeout: timeout, validateJSON: false)
        do {
            return try WireCoding.decode(Response.self, from: response.isEmpty ? Array("{}".utf8) : response)
        } catch {
            if let invalid = Answer.invalidJSONError(response, provider: name, verb: verb) { throw invalid }
            throw ProviderCallError(
                status: .internal,
                message: "provider \(name) answered \(verb) with JSON the Host cannot use: \(DecodingErrorText.describe(error))",
                provider: name, verb: verb
            )
        }
    }

    /// Calls `verb` on the calling thread, blocking it, with no deadline timer — for benchmarks that measure the ABI
    /// crossing itself. Never call it from async code.
    @_spi(Benchmarks)
    public func invokeOnCurrentThread(_ verb: Verb, request: [UInt8]) -> Result<[UInt8], ProviderCallError> {
        guard let function = library.slot(verb) else {
            return .failure(ProviderCallError(status: .unsupported, message: "unsupported", provider: name, verb: verb))
        }
        return invoke(function, verb: verb, callId: 0, deadline: MonotonicClock.now() &+ 60_000_000_000, state: CallState(), request: request)
    }

    /// Runs on a worker thread: the actual C call, then copying and releasing the provider's result.
    private func invoke(
        _ function: mp_verb_fn,
        verb: Verb,
        callId: UInt64,
        deadline: UInt64,
        state: CallState,
        request: [UInt8]
    ) -> Result<[UInt8], ProviderCallError> {
        var call = mp_call()
        call.struct_size = UInt32(MemoryLayout<mp_call>.size)
        call.verb = verb.rawValue
        call.call_id = callId
        call.deadline_mono_ns = deadline
        call.host_call_ctx = Unmanaged.passUnretained(state).toOpaque()
        var out = mp_result()
        out.struct_size = UInt32(MemoryLayout<mp_result>.size)
        withExtendedLifetime(state) {
            request.withUnsafeBufferPointer { buffer in
                function(instance, &call, mp_bytes(ptr: buffer.baseAddress, len: buffer.count), &out)
            }
        }
        let answer = Self.collect(&out, library: library)
        library.vtable.free_result?(&out)
        return answer.result(provider: name, verb: verb)
    }

    /// What a provider put in an `mp_result`, copied into Swift memory.
    struct Answer {
        var status: Int32
        var retryable: Bool
        var nativeCode: Int32
        var message: String?
        var body: [UInt8]

        func result(provider: String, verb: Verb) -> Result<[UInt8], ProviderCallError> {
            guard let known = ProviderStatus(rawValue: status) else {
                return .failure(
                    ProviderCallError(
                        status: .internal,
                        message: "provider \(provider) answered \(verb) with status \(status), which is not in the ABI's taxonomy"
                            + (message.map { " (message: \($0))" } ?? ""),
                        provider: provider, verb: verb
                    )
                )
            }
            guard known == .ok else {
                return .failure(
                    ProviderCallError(
                        status: known, message: message ?? "provider \(provider) answered \(known.name) to \(verb) without a message",
                        retryable: retryable, nativeCode: nativeCode, provider: provider, verb: verb
                    )
                )
            }
            guard String(validating: body, as: UTF8.self) != nil else {
                return .failure(
                    ProviderCallError(
                        status: .internal, message: "provider \(provider) answered \(verb) with a body that is not valid UTF-8",
                        provider: provider, verb: verb
                    )
                )
            }
            return .success(body)
        }

        /// INTERNAL when `body` is not JSON (checked only where the Host would otherwise pass the bytes on, or to name
        /// the problem after a decode failed).
        static func invalidJSONError(_ body: [UInt8], provider: String, verb: Verb) -> ProviderCallError? {
            guard !body.isEmpty, (try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])) == nil else { return nil }
            return ProviderCallError(
                status: .internal, message: "provider \(provider) answered \(verb) with a body that is not valid JSON", provider: provider, verb: verb
            )
        }
    }

    static func collect(_ out: inout mp_result, library: ProviderLibrary) -> Answer {
        let message = out.message.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: strlen($0)), as: UTF8.self) }
        let body = out.body.map { Array(UnsafeBufferPointer(start: $0, count: out.body_len)) } ?? []
        return Answer(status: out.status, retryable: out.retryable != 0, nativeCode: out.native_code, message: message, body: body)
    }

    /// Releases the provider's instance once no call is in flight. Safe to call more than once.
    public func shutdown() async {
        guard !destroyed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        try? await pool.shutdownGracefully()
        if stuckCalls.load(ordering: .relaxed) == 0 { library.vtable.destroy?(instance) }
    }
}
