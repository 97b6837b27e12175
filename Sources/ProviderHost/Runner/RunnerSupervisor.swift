import Foundation
import Logging
import ProviderWire
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A provider served from runner processes (process isolation): one live runner at a time, restarted with
/// exponential backoff after it dies. Callers see the same answers as in-process, and UNAVAILABLE — naming the
/// provider and the cause — for calls a dying runner took with it.
final class RunnerSupervisor: ProviderBackend {
    private let launch: ProviderLaunch
    private let logger: Logger
    private let eventSink: ProviderEventSink?
    let lateAnswers = LateAnswerLog()
    private let executable: String
    private let state: Mutex<State>

    private struct State {
        var identity: ProviderIdentity
        var connection: RunnerConnection?
        var starting: Task<Result<RunnerConnection, ProviderStartError>, Never>?
        var restarts = 0
        var lastCrash: String?
        var lastCrashAt: Date?
        var backoff: UInt64
        var nextStartAt: UInt64 = 0
        var shutDown = false
    }

    var identity: ProviderIdentity { state.withLock { $0.identity } }

    var recentLateAnswers: [LateAnswer] { lateAnswers.recent }

    var runtime: ProviderRuntimeStatus {
        state.withLock { state in
            ProviderRuntimeStatus(
                isolation: .process, runnerPid: state.connection?.pid, restarts: state.restarts, lastCrash: state.lastCrash,
                lastCrashAt: state.lastCrashAt.map { ISO8601DateFormatter().string(from: $0) }, lateAnswers: lateAnswers.count
            )
        }
    }

    private init(launch: ProviderLaunch, logger: Logger, eventSink: ProviderEventSink?, identity: ProviderIdentity) {
        self.launch = launch
        self.logger = logger
        self.eventSink = eventSink
        self.executable = RunnerSpawner.locate(launch.runner.executable)
        self.state = Mutex(State(identity: identity, backoff: ProviderInstance.nanoseconds(launch.runner.restartBackoff)))
    }

    /// Starts the first runner; its refusal (load or create) is the caller's error.
    static func start(_ launch: ProviderLaunch, logger: Logger, eventSink: ProviderEventSink?) async throws(ProviderStartError) -> RunnerSupervisor {
        let placeholder = ProviderIdentity(
            path: launch.path,
            manifest: ProviderManifest(
                name: URL(fileURLWithPath: launch.path).lastPathComponent, version: "0.0.0", abi: .init(min: 0, max: 0), verbs: [:]),
            manifestJSON: "{}", abiVersion: 0, abiMinor: 0, hasManifestNote: false, loadNanoseconds: 0, supportedVerbs: []
        )
        let supervisor = RunnerSupervisor(launch: launch, logger: logger, eventSink: eventSink, identity: placeholder)
        let connection = try await supervisor.spawn().get()
        supervisor.state.withLock { $0.connection = connection }
        return supervisor
    }

    /// Spawns a runner and walks it through load and create.
    private func spawn() async -> Result<RunnerConnection, ProviderStartError> {
        var environment: [String: String] = [:]
        let hostEnvironment = ProcessInfo.processInfo.environment
        for pattern in launch.runner.passEnvironment {
            if pattern.hasSuffix("*") {
                let prefix = pattern.dropLast()
                for (key, value) in hostEnvironment where key.hasPrefix(prefix) { environment[key] = value }
            } else if let value = hostEnvironment[pattern] {
                environment[pattern] = value
            }
        }
        environment.merge(launch.runner.setEnvironment) { _, set in set }
        // A crashing provider must die at once: the Swift runtime's backtracer would hold the dying runner (and the
        // calls waiting on it) for seconds while it symbolicates.
        environment["SWIFT_BACKTRACE"] = "enable=no"
        let arguments = [
            "--parent", "\(getpid())", "--address-space", "\(launch.runner.addressSpaceBytes)", "--open-files", "\(launch.runner.openFiles)",
            "--cpu-seconds", "\(launch.runner.cpuSeconds)",
        ]
        let spawned: RunnerSpawner.Spawned
        do { spawned = try await RunnerSpawner.shared.spawn(executable: executable, arguments: arguments, environment: environment) } catch {
            return .failure(.load(.runnerFailed(path: launch.path, reason: "could not be started: \(error.description)")))
        }
        let label = state.withLock { $0.identity.manifest.name }
        let connection = RunnerConnection(
            spawned: spawned, provider: label, killGrace: launch.runner.killGrace, logger: logger, eventSink: eventSink,
            lateAnswers: lateAnswers
        ) { [weak self] connection, reason in self?.runnerDied(connection, reason) }
        let configuration: [UInt8]
        do { configuration = try WireCoding.encode(launch.configuration) } catch {
            connection.discard()
            return .failure(
                .create(
                    path: launch.path,
                    ProviderCallError(status: .invalidArgument, message: "configuration is not encodable: \(error)", provider: label, verb: .describe)
                ))
        }
        let start = RunnerStart(
            path: launch.path, configuration: configuration, threads: launch.threads,
            loadTimeoutMs: Int(ProviderInstance.nanoseconds(launch.loadTimeout) / 1_000_000),
            createTimeoutMs: Int(ProviderInstance.nanoseconds(launch.createTimeout) / 1_000_000)
        )
        let handshakeTimeout = launch.loadTimeout + launch.createTimeout + .seconds(5)
        switch await connection.handshake(start, path: launch.path, timeout: handshakeTimeout) {
        case .success(let identity):
            state.withLock { $0.identity = identity }
            logger.info(
                "provider runner started", metadata: ["provider": "\(identity.manifest.name)", "pid": "\(spawned.pid)", "path": "\(launch.path)"])
            return .success(connection)
        case .failure(let error):
            connection.discard()
            return .failure(error)
        }
    }

    private func runnerDied(_ connection: RunnerConnection, _ reason: String) {
        state.withLock { state in
            guard state.connection === connection else { return }
            state.connection = nil
            state.restarts += 1
            state.lastCrash = reason
            state.lastCrashAt = Date()
            let initial = ProviderInstance.nanoseconds(launch.runner.restartBackoff)
            let lived = MonotonicClock.now() - connection.startedAt
            state.backoff =
                lived >= ProviderInstance.nanoseconds(launch.runner.stableAfter)
                ? initial : min(max(initial, state.backoff * 2), ProviderInstance.nanoseconds(launch.runner.maxRestartBackoff))
            state.nextStartAt = MonotonicClock.now() &+ state.backoff
        }
    }

    /// The live runner, starting a new one when the last died and its backoff has passed (waiting for the backoff
    /// when it ends before `deadline`).
    private func live(verb: Verb, deadline: UInt64) async -> Result<RunnerConnection, ProviderCallError> {
        enum Next {
            case ready(RunnerConnection)
            case wait(UInt64)
            case join(Task<Result<RunnerConnection, ProviderStartError>, Never>)
            case fail(String)
        }
        let name = identity.manifest.name
        for _ in 0..<3 {
            let next: Next = state.withLock { state in
                if state.shutDown { return .fail("is shut down") }
                if let connection = state.connection, connection.isAlive { return .ready(connection) }
                if let starting = state.starting { return .join(starting) }
                let now = MonotonicClock.now()
                if now < state.nextStartAt {
                    guard state.nextStartAt < deadline else {
                        return .fail(
                            "is restarting its runner after it \(state.lastCrash ?? "died"); next attempt in \((state.nextStartAt - now) / 1_000_000) ms"
                        )
                    }
                    return .wait(state.nextStartAt - now)
                }
                let task = Task { await self.spawn() }
                state.starting = task
                return .join(task)
            }
            switch next {
            case .ready(let connection): return .success(connection)
            case .fail(let reason):
                return .failure(
                    ProviderCallError(status: .unavailable, message: "provider \(name) \(reason)", retryable: true, provider: name, verb: verb))
            case .wait(let nanoseconds):
                try? await Task.sleep(for: .nanoseconds(Int64(nanoseconds)))
            case .join(let task):
                let result = await task.value
                var orphan: RunnerConnection?
                let connection: RunnerConnection? = state.withLock { state in
                    guard state.starting == task else { return state.connection }
                    state.starting = nil
                    switch result {
                    case .success(let connection) where state.shutDown:
                        orphan = connection  // shut down while it started: it must not outlive the instance
                    case .success(let connection):
                        state.connection = connection
                    case .failure(let error):
                        state.restarts += 1
                        state.lastCrash = "could not be restarted: \(error.description)"
                        state.lastCrashAt = Date()
                        state.backoff = min(
                            max(ProviderInstance.nanoseconds(launch.runner.restartBackoff), state.backoff * 2),
                            ProviderInstance.nanoseconds(launch.runner.maxRestartBackoff))
                        state.nextStartAt = MonotonicClock.now() &+ state.backoff
                    }
                    return state.connection
                }
                if let orphan {
                    await orphan.shutdown()
                    return .failure(ProviderCallError(status: .unavailable, message: "provider \(name) is shut down", provider: name, verb: verb))
                }
                if case .failure(let error) = result, connection == nil {
                    return .failure(
                        ProviderCallError(
                            status: .unavailable, message: "provider \(name): its runner could not be restarted: \(error.description)",
                            retryable: true, provider: name, verb: verb))
                }
                if let connection, connection.isAlive { return .success(connection) }
            }
        }
        return .failure(
            ProviderCallError(status: .unavailable, message: "provider \(name): its runner keeps dying", retryable: true, provider: name, verb: verb))
    }

    func call(_ verb: Verb, request: [UInt8], deadline: UInt64, timeout: Duration) async throws(ProviderCallError) -> [UInt8] {
        let name = identity.manifest.name
        guard identity.supportedVerbs.contains(verb) else {
            throw ProviderCallError(status: .unsupported, message: "provider \(name) does not support \(verb)", provider: name, verb: verb)
        }
        let connection = try await live(verb: verb, deadline: deadline).get()
        return try await connection.call(verb, request: request, deadline: deadline, timeout: timeout).get()
    }

    func shutdown() async {
        let connection = state.withLock { state -> RunnerConnection? in
            state.shutDown = true
            defer { state.connection = nil }
            return state.connection
        }
        await connection?.shutdown()
    }
}
