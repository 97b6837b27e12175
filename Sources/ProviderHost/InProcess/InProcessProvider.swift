import Foundation
import Logging
import NIOPosix
import ProviderABI
import ProviderWire
import Synchronization

/// A provider instance in this process: an `mp_instance` created from a loaded library, with its own worker
/// threads. Every verb runs on those threads — never on Swift's cooperative pool or an event loop — and is bounded
/// by its deadline.
///
/// A verb that overruns is answered DEADLINE_EXCEEDED at the deadline; its thread stays busy until the provider
/// returns, and its late result is released and dropped. When every worker thread is stuck past a deadline, further
/// calls fail fast with UNAVAILABLE instead of queueing behind them. Nothing here can contain a crash: that is what
/// the runner process is for (``ProviderIsolation/process``).
final class InProcessProvider: ProviderBackend {
    let library: ProviderLibrary
    let identity: ProviderIdentity
    nonisolated(unsafe) private let instance: OpaquePointer
    private let pool: NIOThreadPool
    /// Threads for verbs that wait for output (`session_read`): a terminal left open never holds one of `pool`'s.
    private let waitingPool: NIOThreadPool
    private let threadCount: Int
    /// How many `session_read` calls may wait at once; one more fails fast with UNAVAILABLE.
    static let waitingThreads = 16
    private let waitingCalls = Atomic<Int>(0)
    private let stuckCalls = Atomic<Int>(0)
    private let destroyed = Atomic<Bool>(false)
    private static let nextCallId = Atomic<UInt64>(1)

    var name: String { library.manifest.name }
    let lateAnswers = LateAnswerLog()
    var runtime: ProviderRuntimeStatus { ProviderRuntimeStatus(isolation: .inProcess, lateAnswers: lateAnswers.count) }
    var recentLateAnswers: [LateAnswer] { lateAnswers.recent }

    /// Calls the provider's `create` with `configuration`, giving it at most `createTimeout`.
    init(library: ProviderLibrary, configuration: JSONValue, threads: Int, createTimeout: Duration = .seconds(30)) throws(ProviderCallError) {
        self.library = library
        self.identity = library.identity
        self.threadCount = max(1, threads)
        let name = library.manifest.name
        let configBytes: [UInt8]
        do { configBytes = try WireCoding.encode(configuration) } catch {
            throw ProviderCallError(status: .invalidArgument, message: "configuration is not encodable: \(error)", provider: name, verb: .describe)
        }
        let created = BoundedWait.run(timeout: createTimeout, label: "molecule-create") { () -> Result<Created, ProviderCallError> in
            var error = mp_result()
            error.struct_size = UInt32(MemoryLayout<mp_result>.size)
            let pointer = configBytes.withUnsafeBufferPointer { buffer in
                library.vtable.create!(mp_bytes(ptr: buffer.baseAddress, len: buffer.count), &error)
            }
            if let pointer { return .success(Created(pointer: pointer)) }
            let answer = Self.collect(&error, library: library)
            library.vtable.free_result?(&error)
            let status = ProviderStatus(rawValue: answer.status).map { $0 == .ok ? .internal : $0 } ?? .internal
            return .failure(
                ProviderCallError(
                    status: status, message: answer.message ?? "create returned NULL without a message", provider: name, verb: .describe)
            )
        }
        guard let created else {
            throw ProviderCallError(
                status: .deadlineExceeded, message: "provider \(name): create did not return within \(createTimeout)", provider: name, verb: .describe
            )
        }
        self.instance = try created.get().pointer
        self.pool = NIOThreadPool(numberOfThreads: threadCount)
        pool.start()
        self.waitingPool = NIOThreadPool(numberOfThreads: library.supportedVerbs.contains(where: \.waitsForOutput) ? Self.waitingThreads : 1)
        waitingPool.start()
    }

    /// The instance pointer `create` returned, carried out of its thread.
    private struct Created: @unchecked Sendable { let pointer: OpaquePointer }

    deinit {
        pool.shutdownGracefully { _ in }
        waitingPool.shutdownGracefully { _ in }
    }

    func call(_ verb: Verb, request: [UInt8], deadline: UInt64, timeout: Duration) async throws(ProviderCallError) -> [UInt8] {
        let state = CallState()
        let result: Result<[UInt8], ProviderCallError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                start(verb, request: request, deadline: deadline, timeout: timeout, answerAtDeadline: true, state: state) {
                    continuation.resume(returning: $0)
                }
            }
        } onCancel: {
            state.abandon()
        }
        return try result.get()
    }

    /// Starts `verb` on a worker thread; `completion` runs exactly once, on a worker thread or on the deadline
    /// thread. With `answerAtDeadline` false (the runner process), the call is only marked cancelled at the deadline
    /// and `completion` waits for the provider's own answer: the Host decides what to do about an overrun.
    func start(
        _ verb: Verb, request: [UInt8], deadline: UInt64, timeout: Duration, answerAtDeadline: Bool, state: CallState,
        completion: @escaping @Sendable (Result<[UInt8], ProviderCallError>) -> Void
    ) {
        guard let function = library.slot(verb) else {
            completion(
                .failure(ProviderCallError(status: .unsupported, message: "provider \(name) does not support \(verb)", provider: name, verb: verb)))
            return
        }
        if stuckCalls.load(ordering: .relaxed) >= threadCount {
            completion(
                .failure(
                    ProviderCallError(
                        status: .unavailable,
                        message: "provider \(name): all \(threadCount) worker threads are stuck in calls that overran their deadline",
                        provider: name, verb: verb
                    )
                )
            )
            return
        }
        if verb.waitsForOutput, waitingCalls.wrappingAdd(1, ordering: .relaxed).oldValue >= Self.waitingThreads {
            waitingCalls.subtract(1, ordering: .relaxed)
            completion(
                .failure(
                    ProviderCallError(
                        status: .unavailable, message: "provider \(name): \(Self.waitingThreads) \(verb) calls are already waiting for output",
                        retryable: true, provider: name, verb: verb)))
            return
        }
        let callId = Self.nextCallId.wrappingAdd(1, ordering: .relaxed).oldValue
        CallRegistry.shared.register(callId, state)
        let timer = DeadlineWatchdog.shared.schedule(at: deadline) {
            state.abandon()
            guard answerAtDeadline, state.claimAnswer() else { return }
            self.stuckCalls.add(1, ordering: .relaxed)
            completion(.failure(self.deadlineError(verb, timeout)))
        }
        (verb.waitsForOutput ? waitingPool : pool).submit { _ in
            if verb.waitsForOutput { self.waitingCalls.subtract(1, ordering: .relaxed) }
            // A call whose deadline passed while it waited for a thread is answered without calling the provider.
            let outcome: Result<[UInt8], ProviderCallError> =
                MonotonicClock.now() >= deadline
                ? .failure(self.deadlineError(verb, timeout))
                : self.invoke(function, verb: verb, callId: callId, deadline: deadline, request: request)
            CallRegistry.shared.remove(callId)
            DeadlineWatchdog.shared.cancel(timer)
            if state.claimAnswer() {
                completion(outcome)
            } else {
                self.stuckCalls.subtract(1, ordering: .relaxed)
                let status: ProviderStatus
                let message: String
                switch outcome {
                case .success: (status, message) = (.ok, "")
                case .failure(let error): (status, message) = (error.status, error.message)
                }
                self.lateAnswers.record(verb, status: status, message: message, deadline: deadline)
                self.library.logger.notice("late result discarded", metadata: ["provider": "\(self.name)", "verb": "\(verb)", "call": "\(callId)"])
            }
        }
    }

    private func deadlineError(_ verb: Verb, _ timeout: Duration) -> ProviderCallError {
        .deadlineVerdict(provider: name, verb: verb, timeout: timeout)
    }

    /// Calls `verb` on the calling thread, blocking it, with no deadline timer (benchmarks only).
    func invokeOnCurrentThread(_ verb: Verb, request: [UInt8]) -> Result<[UInt8], ProviderCallError> {
        guard let function = library.slot(verb) else {
            return .failure(ProviderCallError(status: .unsupported, message: "unsupported", provider: name, verb: verb))
        }
        let callId = Self.nextCallId.wrappingAdd(1, ordering: .relaxed).oldValue
        CallRegistry.shared.register(callId, CallState())
        defer { CallRegistry.shared.remove(callId) }
        return invoke(function, verb: verb, callId: callId, deadline: MonotonicClock.now() &+ 60_000_000_000, request: request)
    }

    /// Runs on a worker thread: the actual C call, then copying and releasing the provider's result.
    private func invoke(_ function: mp_verb_fn, verb: Verb, callId: UInt64, deadline: UInt64, request: [UInt8]) -> Result<[UInt8], ProviderCallError>
    {
        var call = mp_call()
        call.struct_size = UInt32(MemoryLayout<mp_call>.size)
        call.verb = verb.rawValue
        call.call_id = callId
        call.deadline_mono_ns = deadline
        // Opaque to the provider and never dereferenced by the Host: `is_cancelled` looks the call up by id.
        call.host_call_ctx = UnsafeMutableRawPointer(bitPattern: UInt(truncatingIfNeeded: callId))
        var out = mp_result()
        out.struct_size = UInt32(MemoryLayout<mp_result>.size)
        request.withUnsafeBufferPointer { buffer in
            function(instance, &call, mp_bytes(ptr: buffer.baseAddress, len: buffer.count), &out)
        }
        let answer = Self.collect(&out, library: library)
        library.vtable.free_result?(&out)
        return answer.result(provider: name, verb: verb)
    }

    /// What a provider put in an `mp_result`, copied into Swift memory — within ``ProviderBounds``.
    struct Answer {
        var status: Int32
        var retryable: Bool
        var nativeCode: Int32
        var message: String?
        var body: [UInt8]
        /// Why the result cannot be read at all (a size the Host refuses), checked before reading it.
        var refusal: String?

        func result(provider: String, verb: Verb) -> Result<[UInt8], ProviderCallError> {
            if let refusal {
                return .failure(
                    ProviderCallError(
                        status: .internal, message: "provider \(provider) answered \(verb) with \(refusal)", provider: provider, verb: verb))
            }
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
                let text =
                    message.flatMap { $0.isEmpty ? nil : $0 } ?? ProviderCallError.missingMessage(provider: provider, status: known, verb: verb)
                return .failure(
                    ProviderCallError(status: known, message: text, retryable: retryable, nativeCode: nativeCode, provider: provider, verb: verb))
            }
            guard String(validating: body, as: UTF8.self) != nil else {
                return .failure(
                    ProviderCallError(
                        status: .internal, message: "provider \(provider) answered \(verb) with a body that is not valid UTF-8", provider: provider,
                        verb: verb)
                )
            }
            return .success(body)
        }
    }

    static func collect(_ out: inout mp_result, library: ProviderLibrary) -> Answer {
        let message = out.message.map { BoundedCString.read($0, limit: ProviderBounds.maxMessageBytes) }
        var refusal: String?
        var body: [UInt8] = []
        if out.body_len > ProviderBounds.maxBodyBytes {
            refusal = "body_len \(out.body_len), above the \(ProviderBounds.maxBodyBytes)-byte limit (the body was not read)"
        } else if out.body == nil && out.body_len > 0 {
            refusal = "a NULL body and body_len \(out.body_len)"
        } else if let pointer = out.body {
            body = Array(UnsafeBufferPointer(start: pointer, count: out.body_len))
        }
        return Answer(status: out.status, retryable: out.retryable != 0, nativeCode: out.native_code, message: message, body: body, refusal: refusal)
    }

    /// Releases the provider's instance once no call is in flight. Safe to call more than once.
    func shutdown() async {
        guard !destroyed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // A thread stuck in a verb that ignored its deadline would make a graceful shutdown wait forever (and the
        // Host ignore SIGTERM): then the pool is abandoned, and the instance is never destroyed under it.
        guard stuckCalls.load(ordering: .relaxed) == 0 else {
            pool.shutdownGracefully { _ in }
            waitingPool.shutdownGracefully { _ in }
            return
        }
        try? await pool.shutdownGracefully()
        try? await waitingPool.shutdownGracefully()
        if stuckCalls.load(ordering: .relaxed) == 0 { library.vtable.destroy?(instance) }
    }
}
