import Foundation
import ProviderWire

/// A child process the test starts and may kill -9 (the crash test's Host).
struct BackgroundProcess {
    let pid: pid_t

    /// Starts `arguments` with `environment` added, stdout and stderr appended to `logFile`.
    static func start(_ arguments: [String], environment: [String: String], logFile: String) throws -> BackgroundProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, logFile, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        ChildSignals.apply(to: &attributes)
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard rc == 0 else { throw HarnessError("cannot start \(arguments[0]): errno \(rc)") }
        return BackgroundProcess(pid: pid)
    }

    /// Sends `signal` and reaps the child (bounded).
    func stop(_ signal: Int32) {
        kill(pid, signal)
        var status: Int32 = 0
        for _ in 0..<200 {
            if waitpid(pid, &status, WNOHANG) == pid { return }
            usleep(50_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
    }
}

extension BackgroundProcess {
    /// Starts `molecule-host serve --config configPath` and waits (bounded) until `base/health` answers; a Host that
    /// exits or never answers is an error quoting its log.
    static func host(configPath: String, base: String, logFile: String) async throws -> BackgroundProcess {
        let binary = HostHarness.productsDirectory.appendingPathComponent("molecule-host").path
        let process = try start([binary, "serve", "--config", configPath], environment: ["LOG_LEVEL": "warning"], logFile: logFile)
        for _ in 0..<200 {
            if (try? await CrashRecoveryTests.get(base + "/health", timeout: 1)) != nil { return process }
            var status: Int32 = 0
            if waitpid(process.pid, &status, WNOHANG) == process.pid { break }  // it exited: fail now, with its log
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("the Host did not start: \((try? String(contentsOfFile: logFile, encoding: .utf8))?.suffix(2000) ?? "")")
    }
}
