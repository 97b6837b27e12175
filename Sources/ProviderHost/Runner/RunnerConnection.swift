import Foundation
import Logging
import ProviderWire
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The Host's side of one live runner process: calls out, results back, and the runner's death.
///
/// A dedicated thread reads the socket; writes go through a serial dispatch queue, so no caller ever blocks on the
/// socket. When the runner dies — a signal, `exit`, a closed socket, a malformed or oversized frame, or a verb that
/// overran its deadline by more than the kill grace — its whole process group is killed, every call in flight fails
/// UNAVAILABLE naming the provider and the cause, and `onDeath` runs once.
final class RunnerConnection: Sendable {
    let pid: pid_t
    /// The provider's name: the library's file name until the runner reports its manifest.
    var provider: String { label.withLock { $0 } }
    private let label: Mutex<String>
    let startedAt: UInt64 = MonotonicClock.now()
    private let socket: FrameSocket
    private let writes: DispatchQueue
    private let killGrace: UInt64
    private let logger: Logger
    private let eventSink: ProviderEventSink?
    /// Where results that came after the Host answered at the deadline are recorded (shared by every runner of a provider).
    private let lateAnswers: LateAnswerLog
    private let state = Mutex<State>(State())
    private let nextCallId = Atomic<UInt64>(1)
    private let onDeath: @Sendable (RunnerConnection, String) -> Void

    private struct State {
        var calls: [UInt64: PendingCall] = [:]
        var handshake: CheckedContinuation<Result<ProviderIdentity, ProviderStartError>, Never>?
        var handshakePath = ""
        var shuttingDown = false
        var deathReason: String?
    }

    /// One call waiting for its result.
    final class PendingCall: Sendable {
        let verb: Verb
        let deadline: UInt64
        let continuation: CheckedContinuation<Result<[UInt8], ProviderCallError>, Never>
        let timers = Mutex<[UInt64]>([])
        private let answered = Atomic<Bool>(false)

        init(verb: Verb, deadline: UInt64, continuation: CheckedContinuation<Result<[UInt8], ProviderCallError>, Never>) {
            self.verb = verb
            self.deadline = deadline
            self.continuation = continuation
        }

        /// Answers once; later answers (a late result after the deadline) are dropped. False when it was dropped.
        @discardableResult
        func answer(_ result: Result<[UInt8], ProviderCallError>) -> Bool {
            guard answered.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return false }
            continuation.resume(returning: result)
            return true
        }

        func cancelTimers() { timers.withLock { $0 }.forEach(DeadlineWatchdog.shared.cancel) }
    }

    init(
        spawned: RunnerSpawner.Spawned, provider: String, killGrace: Duration, logger: Logger, eventSink: ProviderEventSink?,
        lateAnswers: LateAnswerLog, onDeath: @escaping @Sendable (RunnerConnection, String) -> Void
    ) {
        self.pid = spawned.pid
        self.lateAnswers = lateAnswers
        self.label = Mutex(provider)
        self.socket = FrameSocket(descriptor: spawned.socket)
        self.writes = DispatchQueue(label: "molecule.runner.\(spawned.pid).writes")
        self.killGrace = ProviderInstance.nanoseconds(killGrace)
        self.logger = logger
        self.eventSink = eventSink
        self.onDeath = onDeath
        let thread = Thread { [self] in readLoop() }
        thread.name = "molecule-runner-\(spawned.pid)"
        thread.start()
    }

    var isAlive: Bool { state.withLock { $0.deathReason == nil } }

    // MARK: Handshake

    /// Sends the start instructions and waits (at most `timeout`) for the runner to load and create.
    func handshake(_ start: RunnerStart, path: String, timeout: Duration) async -> Result<ProviderIdentity, ProviderStartError> {
        let payload: [UInt8]
        do { payload = try WireCoding.encode(start) } catch {
            return .failure(.load(.runnerFailed(path: path, reason: "could not be instructed: \(error)")))
        }
        var frame = FrameBuilder(.start, capacity: payload.count)
        frame.append(contentsOf: payload)
        let bytes = frame.finished()
        let timer = DeadlineWatchdog.shared.schedule(at: MonotonicClock.now() &+ ProviderInstance.nanoseconds(timeout)) { [self] in
            finishHandshake(.failure(.load(.timedOut(path: path, phase: "loading and creating in its runner process", timeout: "\(timeout)"))))
            kill(reason: "did not finish loading within \(timeout)")
        }
        let result = await withCheckedContinuation { continuation in
            let dead = state.withLock { state -> String? in
                if state.deathReason == nil {
                    state.handshake = continuation
                    state.handshakePath = path
                }
                return state.deathReason
            }
            if let dead {
                continuation.resume(returning: .failure(.load(.runnerFailed(path: path, reason: dead))))
                return
            }
            send(bytes)
        }
        DeadlineWatchdog.shared.cancel(timer)
        return result
    }

    private func finishHandshake(_ result: Result<ProviderIdentity, ProviderStartError>) {
        state.withLock { state in
            defer { state.handshake = nil }
            return state.handshake
        }?.resume(returning: result)
    }

    // MARK: Calls

    func call(_ verb: Verb, request: [UInt8], deadline: UInt64, timeout: Duration) async -> Result<[UInt8], ProviderCallError> {
        let id = nextCallId.wrappingAdd(1, ordering: .relaxed).oldValue
        var frame = FrameBuilder(.call, capacity: 20 + request.count)
        frame.append(id)
        frame.append(verb.rawValue)
        frame.append(deadline)
        frame.append(contentsOf: request)
        let bytes = frame.finished()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let pending = PendingCall(verb: verb, deadline: deadline, continuation: continuation)
                let dead = state.withLock { state -> String? in
                    if state.deathReason == nil { state.calls[id] = pending }
                    return state.deathReason
                }
                if let dead {
                    pending.answer(.failure(died(dead, verb: verb)))
                    return
                }
                // One timer per call; only a call that overran gets a second, for the kill after the grace.
                let answerAtDeadline = DeadlineWatchdog.shared.schedule(at: deadline) { [self] in
                    pending.answer(.failure(.deadlineVerdict(provider: provider, verb: verb, timeout: timeout)))
                    let killAfterGrace = DeadlineWatchdog.shared.schedule(at: deadline &+ killGrace) { [self] in
                        guard state.withLock({ $0.calls[id] }) != nil else { return }
                        kill(reason: "was killed: \(verb) overran its deadline (\(timeout)) by more than the kill grace and ignored is_cancelled")
                    }
                    pending.timers.withLock { $0.append(killAfterGrace) }
                }
                pending.timers.withLock { $0.insert(answerAtDeadline, at: 0) }
                send(bytes)
            }
        } onCancel: {
            var cancel = FrameBuilder(.cancel)
            cancel.append(id)
            send(cancel.finished())
        }
    }

    private func died(_ reason: String, verb: Verb) -> ProviderCallError {
        ProviderCallError(
            status: .unavailable, message: "provider \(provider): its runner process (pid \(pid)) \(reason) during \(verb); it is restarted",
            retryable: true, provider: provider, verb: verb
        )
    }

    /// Sends a frame without ever blocking the caller: straight onto the socket when it takes the whole frame at
    /// once and nothing is queued before it, otherwise (a full socket buffer) the rest goes through the serial write
    /// queue, in order.
    private func send(_ frame: [UInt8]) {
        let remainder: ArraySlice<UInt8>? = writeState.withLock { state in
            if state.closed { return nil }  // the runner is gone; its descriptor may already be another file's
            if state.queued == 0 {
                let sent = socket.sendWithoutBlocking(frame)
                if sent == frame.count { return nil }
                if sent < 0 {
                    socket.shutdownBoth()  // the reader sees the failure and reports the death
                    return nil
                }
                state.queued += 1
                return frame[sent...]
            }
            state.queued += 1
            return frame[...]
        }
        guard let remainder else { return }
        writes.async { [self] in
            do { try socket.write(remainder) } catch { socket.shutdownBoth() }
            writeState.withLock { $0.queued -= 1 }
        }
    }

    /// Frames (or their rests) waiting in the write queue — while any are, new frames queue behind them — and
    /// whether the socket is closed (nothing is sent after that).
    private let writeState = Mutex<(queued: Int, closed: Bool)>((0, false))

    // MARK: Reading

    private func readLoop() {
        while true {
            let kind: RunnerFrameKind
            let payload: [UInt8]
            do { (kind, payload) = try socket.read() } catch {
                if case .closed = error { return runnerClosed() }
                return kill(reason: "\(error)")
            }
            do { try handle(kind, payload) } catch { return kill(reason: "sent a malformed \(kind) frame: \(error)") }
        }
    }

    private func handle(_ kind: RunnerFrameKind, _ payload: [UInt8]) throws {
        var parser = FrameParser(payload)
        switch kind {
        case .result:
            let id = try parser.uint64()
            let status = try parser.int32()
            let retryable = try parser.uint8() != 0
            let nativeCode = try parser.int32()
            let messageLength = Int(try parser.uint32())
            guard messageLength <= ProviderBounds.maxMessageBytes + 64 else {
                throw FrameParser.Malformed(description: "message of \(messageLength) bytes")
            }
            let message = String(decoding: try parser.bytes(messageLength), as: UTF8.self)
            let body = parser.rest()
            guard let pending = state.withLock({ $0.calls.removeValue(forKey: id) }) else { return }  // a late or unknown result
            pending.cancelTimers()
            let known = ProviderStatus(rawValue: status) ?? .internal
            let delivered =
                known == .ok
                ? pending.answer(.success(body))
                : pending.answer(
                    .failure(
                        ProviderCallError(
                            status: known, message: message, retryable: retryable, nativeCode: nativeCode, provider: provider, verb: pending.verb)))
            if !delivered { lateAnswers.record(pending.verb, status: known, message: message, deadline: pending.deadline) }
        case .log:
            let level = try parser.uint8()
            let text = String(decoding: parser.rest().prefix(ProviderBounds.maxLogLineBytes + 64), as: UTF8.self)
            logger.log(level: HostServicesBridge.logLevel(Int32(level)), "\(text)", metadata: ["provider": "\(provider)", "runner": "\(pid)"])
        case .event:
            let bytes = parser.rest()
            guard bytes.count <= ProviderBounds.maxEventBytes, let payload = try? WireCoding.decode(JSONValue.self, from: bytes) else { return }
            eventSink?(ProviderEvent(provider: provider, payload: payload))
        case .ready:
            let identity = try WireCoding.decode(ProviderIdentity.self, from: payload)
            label.withLock { $0 = identity.manifest.name }
            finishHandshake(.success(identity))
        case .refused:
            let refusal = try WireCoding.decode(RunnerRefusal.self, from: payload)
            let path = state.withLock { $0.handshakePath }
            if let load = refusal.load {
                finishHandshake(.failure(.load(load)))
            } else {
                let status = ProviderStatus(rawValue: refusal.createStatus ?? ProviderStatus.internal.rawValue) ?? .internal
                let error = ProviderCallError(status: status, message: refusal.createMessage ?? "create failed", provider: provider, verb: .describe)
                finishHandshake(.failure(.create(path: path, error)))
            }
        case .start, .call, .cancel, .shutdown:
            throw FrameParser.Malformed(description: "a Host-to-runner frame kind")
        }
    }

    /// The socket closed: the runner exited (or closed descriptors it does not own). Waits briefly for it to exit
    /// on its own, so the reason names its real status.
    private func runnerClosed() {
        var status: Int32 = 0
        for _ in 0..<100 {
            let waited = waitpid(pid, &status, WNOHANG)
            if waited == pid { return died(reason: ExitStatus.describe(status), reaped: true) }
            if waited < 0 { return died(reason: "closed its connection and vanished", reaped: true) }
            usleep(5_000)
        }
        kill(reason: "closed its connection to the Host (did the provider close descriptors it does not own?)")
    }

    /// Kills the runner's process group (SIGKILL) and reports `reason`.
    func kill(reason: String) { died(reason: reason, reaped: false) }

    /// Kills a runner whose end is expected (refused at load): no crash is reported.
    func discard() {
        state.withLock { $0.shuttingDown = true }
        died(reason: "was discarded", reaped: false)
    }

    private func died(reason: String, reaped: Bool) {
        let outcome = state.withLock { state -> (calls: [PendingCall], expected: Bool, path: String)? in
            guard state.deathReason == nil else { return nil }
            state.deathReason = reason
            defer { state.calls = [:] }
            return (Array(state.calls.values), state.shuttingDown, state.handshakePath)
        }
        guard let (calls, expected, path) = outcome else { return }
        Glibc.kill(-pid, SIGKILL)  // the whole group: whatever the provider forked dies with it
        if !reaped {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        }
        socket.shutdownBoth()
        writeState.withLock { $0.closed = true }
        writes.async { [socket] in socket.close() }
        if expected {
            logger.debug("provider runner ended", metadata: ["provider": "\(provider)", "pid": "\(pid)"])
        } else {
            logger.error(
                "provider runner died", metadata: ["provider": "\(provider)", "pid": "\(pid)", "reason": "\(reason)", "in_flight": "\(calls.count)"])
        }
        finishHandshake(.failure(.load(.runnerFailed(path: path, reason: reason + " while loading the library and creating its instance"))))
        for call in calls {
            call.cancelTimers()
            call.answer(.failure(died(reason, verb: call.verb)))
        }
        if !expected { onDeath(self, reason) }
    }

    /// Ends the runner once no call is in flight: asks it to release the instance and exit, then makes sure.
    func shutdown() async {
        state.withLock { $0.shuttingDown = true }
        send(FrameBuilder(.shutdown).finished())
        for _ in 0..<200 where isAlive { try? await Task.sleep(for: .milliseconds(10)) }
        if isAlive { kill(reason: "did not exit within 2 s of shutdown") }
    }
}
