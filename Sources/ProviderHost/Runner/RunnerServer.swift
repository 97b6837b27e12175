import CRunnerSupport
import Foundation
import Logging
import ProviderWire
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The runner process's side (`molecule-provider-runner`): loads one provider library with the same loader the Host
/// uses and serves its verbs over the socket on fd 3.
///
/// Before any provider code runs it closes every descriptor but 0–3, asks to die with the Host (`PR_SET_PDEATHSIG`),
/// and applies its resource limits. It answers each call when the provider returns — the Host enforces deadlines
/// (and kills this process when a verb overruns by more than the grace). When the Host's end closes, it exits.
public enum ProviderRunnerServer {
    /// Runs the runner; never returns.
    public static func main(arguments: [String]) -> Never {
        molecule_runner_close_from(4)
        var options: [String: String] = [:]
        var index = 0
        while index + 1 < arguments.count {
            options[arguments[index].trimmingCharacters(in: CharacterSet(charactersIn: "-"))] = arguments[index + 1]
            index += 2
        }
        _ = molecule_runner_set_parent_death_signal(SIGKILL)
        if let parent = options["parent"].flatMap(Int32.init), getppid() != parent { exit(RunnerExit.parentGone) }  // the Host is already gone
        limit(RLIMIT_AS, options["address-space"])
        limit(RLIMIT_NOFILE, options["open-files"])
        limit(RLIMIT_CPU, options["cpu-seconds"])
        signal(SIGPIPE, SIG_IGN)
        let socket = FrameSocket(descriptor: 3)
        Server(socket: socket).serve()
    }

    private static func limit(_ resource: __rlimit_resource, _ value: String?) {
        guard let value = value.flatMap(UInt64.init), value > 0 else { return }
        var current = rlimit()
        getrlimit(__rlimit_resource_t(resource.rawValue), &current)
        let bounded = min(rlim_t(value), current.rlim_max)
        var wanted = rlimit(rlim_cur: bounded, rlim_max: bounded)
        setrlimit(__rlimit_resource_t(resource.rawValue), &wanted)
    }

    final class Server: Sendable {
        let socket: FrameSocket
        let calls = Mutex<[UInt64: CallState]>([:])

        init(socket: FrameSocket) { self.socket = socket }

        func send(_ frame: FrameBuilder) {
            do { try socket.write(frame.finished()) } catch { lost(error) }
        }

        /// The connection failed: EOF means the Host is gone (leave quietly); any other error means the provider broke
        /// the descriptor (closed or reused fd 3).
        func lost(_ error: FrameSocket.Failure) -> Never {
            if case .closed = error { _exit(0) }
            _exit(RunnerExit.lostConnection)
        }

        func serve() -> Never {
            var provider: InProcessProvider?
            while true {
                let kind: RunnerFrameKind
                let payload: [UInt8]
                do { (kind, payload) = try socket.read() } catch { lost(error) }
                switch kind {
                case .start:
                    guard provider == nil, let start = try? WireCoding.decode(RunnerStart.self, from: payload) else {
                        _exit(RunnerExit.protocolError)
                    }
                    provider = load(start)
                case .call:
                    guard let provider else { _exit(RunnerExit.protocolError) }
                    call(provider, payload)
                case .cancel:
                    var parser = FrameParser(payload)
                    guard let id = try? parser.uint64() else { _exit(RunnerExit.protocolError) }
                    calls.withLock { $0[id] }?.abandon()
                case .shutdown:
                    // The Host waited for its calls; release the instance if nothing is still stuck, then leave.
                    if let provider {
                        let done = DispatchSemaphore(value: 0)
                        Task {
                            await provider.shutdown()
                            done.signal()
                        }
                        _ = done.wait(timeout: .now() + 1)
                    }
                    _exit(0)
                default:
                    _exit(RunnerExit.protocolError)
                }
            }
        }

        private func load(_ start: RunnerStart) -> InProcessProvider {
            var logger = Logger(label: "molecule.runner", factory: { _ in SwiftLogNoOpLogHandler() })
            logger.logLevel = .critical
            let events: ProviderEventSink = { [self] event in
                guard let bytes = try? WireCoding.encode(event.payload) else { return }
                var frame = FrameBuilder(.event, capacity: bytes.count)
                frame.append(contentsOf: bytes)
                send(frame)
            }
            let logs: ProviderLogSink = { [self] level, text in
                var frame = FrameBuilder(.log, capacity: text.utf8.count + 1)
                frame.append(UInt8(Self.wireLevel(level)))
                frame.append(contentsOf: text.utf8)
                send(frame)
            }
            let library: ProviderLibrary
            do {
                library = try ProviderLibrary.load(
                    path: start.path, logger: logger, eventSink: events, logSink: logs, timeout: .milliseconds(start.loadTimeoutMs))
            } catch {
                refuse(RunnerRefusal(load: error))
            }
            let configuration = (try? WireCoding.decode(JSONValue.self, from: start.configuration)) ?? .object([:])
            do {
                let provider = try InProcessProvider(
                    library: library, configuration: configuration, threads: start.threads, createTimeout: .milliseconds(start.createTimeoutMs))
                guard let identity = try? WireCoding.encode(provider.identity) else { _exit(RunnerExit.protocolError) }
                var frame = FrameBuilder(.ready, capacity: identity.count)
                frame.append(contentsOf: identity)
                send(frame)
                return provider
            } catch {
                refuse(RunnerRefusal(createStatus: error.status.rawValue, createMessage: error.message))
            }
        }

        private func refuse(_ refusal: RunnerRefusal) -> Never {
            if let bytes = try? WireCoding.encode(refusal) {
                var frame = FrameBuilder(.refused, capacity: bytes.count)
                frame.append(contentsOf: bytes)
                send(frame)
            }
            _exit(RunnerExit.refused)
        }

        private func call(_ provider: InProcessProvider, _ payload: [UInt8]) {
            var parser = FrameParser(payload)
            guard let id = try? parser.uint64(), let rawVerb = try? parser.uint32(), let deadline = try? parser.uint64() else {
                _exit(RunnerExit.protocolError)
            }
            let request = parser.rest()
            guard let verb = Verb(rawValue: rawVerb) else {
                answer(
                    id,
                    .failure(
                        ProviderCallError(
                            status: .unsupported, message: "verb \(rawVerb) is unknown to this runner", provider: provider.name, verb: .describe)))
                return
            }
            let state = CallState()
            calls.withLock { $0[id] = state }
            let timeout = Duration.nanoseconds(Int64(clamping: deadline &- min(deadline, MonotonicClock.now())))
            provider.start(verb, request: request, deadline: deadline, timeout: timeout, answerAtDeadline: false, state: state) { [self] result in
                calls.withLock { _ = $0.removeValue(forKey: id) }
                answer(id, result)
            }
        }

        private func answer(_ id: UInt64, _ result: Result<[UInt8], ProviderCallError>) {
            var frame: FrameBuilder
            switch result {
            case .success(let body):
                frame = FrameBuilder(.result, capacity: 21 + body.count)
                frame.append(id)
                frame.append(ProviderStatus.ok.rawValue)
                frame.append(UInt8(0))
                frame.append(Int32(0))
                frame.append(UInt32(0))
                frame.append(contentsOf: body)
            case .failure(let error):
                let message = Array(error.message.utf8.prefix(ProviderBounds.maxMessageBytes + 32))
                frame = FrameBuilder(.result, capacity: 21 + message.count)
                frame.append(id)
                frame.append(error.status.rawValue)
                frame.append(UInt8(error.retryable ? 1 : 0))
                frame.append(error.nativeCode)
                frame.append(UInt32(message.count))
                frame.append(contentsOf: message)
            }
            send(frame)
        }

        static func wireLevel(_ level: Logger.Level) -> Int {
            switch level {
            case .trace: 0
            case .debug: 1
            case .info, .notice: 2
            case .warning: 3
            case .error, .critical: 4
            }
        }
    }
}
