import Foundation
import ProviderWire

#if canImport(Glibc)
import Glibc
#endif

/// Starts runner processes, always from one thread that lives as long as the Host: the runner asks the kernel for
/// SIGKILL when its parent *thread* ends (`PR_SET_PDEATHSIG`), so a runner spawned from a pool thread that later
/// retires would die with it.
final class RunnerSpawner: @unchecked Sendable {
    static let shared = RunnerSpawner()

    /// A started runner: its pid (= its process group) and the Host's end of the socket.
    struct Spawned: Sendable {
        var pid: pid_t
        var socket: Int32
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let condition = NSCondition()
    private var work: [() -> Void] = []

    private init() {
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "molecule-runner-spawner"
        thread.start()
    }

    private func loop() {
        while true {
            condition.lock()
            while work.isEmpty { condition.wait() }
            let next = work.removeFirst()
            condition.unlock()
            next()
        }
    }

    /// Spawns `executable` with the Host's end of a new socket pair; the runner gets the other end as fd 3.
    func spawn(executable: String, arguments: [String], environment: [String: String]) async throws(Failure) -> Spawned {
        let result: Result<Spawned, Failure> = await withCheckedContinuation { continuation in
            condition.lock()
            work.append { continuation.resume(returning: Self.spawnNow(executable: executable, arguments: arguments, environment: environment)) }
            condition.signal()
            condition.unlock()
        }
        return try result.get()
    }

    private static func spawnNow(executable: String, arguments: [String], environment: [String: String]) -> Result<Spawned, Failure> {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            return .failure(Failure(description: "socketpair failed: \(String(cString: strerror(errno)))"))
        }
        // The child's end must not already be fd 3 (dup2 onto itself would keep close-on-exec).
        let childEnd = fcntl(pair[1], F_DUPFD_CLOEXEC, 10)
        Glibc.close(pair[1])
        defer { Glibc.close(childEnd) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group (POSIX_SPAWN_SETPGROUP, group = its pid), default signal dispositions.
        posix_spawnattr_setpgroup(&attributes, 0)
        ChildSignals.apply(to: &attributes, flags: 0x02)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, 2, 1)
        posix_spawn_file_actions_adddup2(&actions, childEnd, 3)
        if let closeFrom = ChildSignals.addCloseFrom { _ = closeFrom(&actions, 4) }
        let argv = [executable] + arguments
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArgv.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, cArgv, cEnv)
        guard rc == 0 else {
            Glibc.close(pair[0])
            return .failure(Failure(description: "could not start the runner \(executable): \(String(cString: strerror(rc)))"))
        }
        return .success(Spawned(pid: pid, socket: pair[0]))
    }

    /// The runner executable: the configured one, `$MOLECULE_PROVIDER_RUNNER`, or `molecule-provider-runner` next to
    /// the running executable.
    static func locate(_ configured: String?) -> String {
        if let configured { return configured }
        if let fromEnvironment = ProcessInfo.processInfo.environment["MOLECULE_PROVIDER_RUNNER"], !fromEnvironment.isEmpty { return fromEnvironment }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return executable.deletingLastPathComponent().appendingPathComponent("molecule-provider-runner").path
    }
}
