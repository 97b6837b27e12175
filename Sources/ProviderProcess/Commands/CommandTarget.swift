import CProcessSupport
import Foundation
import ProviderKit
import ProviderWire
import Synchronization

/// Where and how an `exec` command or a session runs in a Process workspace: as the workload does — its uid and
/// sandbox, its cgroup, its environment (read from the workload itself, as `docker exec` inherits a container's) —
/// in a directory of its files root.
struct CommandTarget {
    /// The program asked for (`argv[0]` of the request; ``argv`` may start with the sandbox's wrapper).
    var program: String
    var argv: [String]
    var environment: [String: String]
    var directory: String
    var cgroupProcs: [String]

    /// The target for `plan` in `workspaceId`: NOT_FOUND without a running instance, CONFLICT while paused.
    init(_ plan: ExecPlan, workspaceId: String, provider: ProcessProvider) throws(ProviderError) {
        try provider.layout.ensureUsable()
        let workspace = try provider.layout.workspace(workspaceId)
        guard let meta = workspace.readMeta(), meta.state == .running, let workload = meta.workload, workload.isAlive else {
            throw .notFound("workspace \(workspaceId) has no running instance")
        }
        if workload.state == .paused { throw .conflict("workspace \(workspaceId) is paused; resume it before running commands in it") }
        let root = workspace.configs.resolvingSymlinksInPath().path
        let directory = plan.workingDir.isRoot ? root : URL(fileURLWithPath: root + "/" + plan.workingDir.string).resolvingSymlinksInPath().path
        var isDirectory: ObjCBool = false
        guard directory == root || directory.hasPrefix(root + "/"),
            FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
        else { throw .invalidArgument("working_dir \"\(plan.workingDir)\" is not a directory in the workspace's files root") }
        var environment = Self.environment(of: workload.pid) ?? WorkloadSandbox.baseEnvironment(home: root)
        environment.merge(plan.env) { _, new in new }
        let uid = provider.sandbox.separatesUsers ? meta.uid : nil
        program = plan.argv[0]
        argv = try provider.sandbox.wrap(plan.argv, uid: uid)
        self.environment = environment
        self.directory = directory
        cgroupProcs = meta.cgroup?.procsFiles ?? []
    }

    /// The environment of the running workload (`/proc/<pid>/environ`, at most 1 MiB).
    static func environment(of pid: Int32) -> [String: String]? {
        guard let handle = FileHandle(forReadingAtPath: "/proc/\(pid)/environ"), let data = try? handle.read(upToCount: 1 << 20) else { return nil }
        try? handle.close()
        var environment: [String: String] = [:]
        for entry in data.split(separator: 0) {
            let text = String(decoding: entry, as: UTF8.self)
            guard let equals = text.firstIndex(of: "=") else { continue }
            environment[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        return environment
    }

    /// Starts the command with the given fds as 0, 1, 2; answers its pid (a session and process-group leader).
    /// A program that cannot start is answered as a shell does: exit status 127 and the reason (`exec_failure`).
    func spawn(stdin: Int32, stdout: Int32, stderr: Int32, controllingTTY: Bool) -> Result<pid_t, SpawnFailure> {
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        let cProcs = cgroupProcs.map { strdup($0) } + [nil]
        defer { (cArgv + cEnv + cProcs).forEach { free($0) } }
        let pid = cArgv.withUnsafeBufferPointer { argvBuffer in
            cEnv.withUnsafeBufferPointer { envBuffer in
                cProcs.withUnsafeBufferPointer { procsBuffer in
                    directory.withCString { cwd in
                        argvBuffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: cArgv.count) { argvPointer in
                            envBuffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: cEnv.count) { envPointer in
                                procsBuffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: cProcs.count) { procsPointer in
                                    var spec = molecule_spawn_spec(
                                        argv: argvPointer, envp: envPointer, cwd: cwd, stdin_fd: stdin, stdout_fd: stdout, stderr_fd: stderr,
                                        controlling_tty: controllingTTY ? 1 : 0, cgroup_procs: procsPointer)
                                    return molecule_spawn(&spec)
                                }
                            }
                        }
                    }
                }
            }
        }
        return pid > 0 ? .success(pid) : .failure(SpawnFailure(errno: -pid))
    }

    /// "exec: PROGRAM: REASON" for a program that could not start.
    func startFailure(_ error: SpawnFailure) -> String { "exec: \(program): \(error.reason)\n" }
}

/// Why a command did not start: the errno of the step that failed (cgroup, directory, exec).
struct SpawnFailure: Error {
    var errno: Int32
    var reason: String { String(cString: strerror(errno)) }
}

/// The shell's exit status of a `waitpid` status: the exit code, or 128 + the signal.
func shellExitCode(_ status: Int32) -> Int {
    let signal = status & 0x7f
    return signal == 0 ? Int((status >> 8) & 0xff) : 128 + Int(signal)
}

/// The `exec` commands running in each workspace, so `stop` ends them with the workspace.
final class RunningCommands: Sendable {
    private let table = Mutex<[String: Set<pid_t>]>([:])

    func add(_ pid: pid_t, workspaceId: String) { table.withLock { _ = $0[workspaceId, default: []].insert(pid) } }
    func remove(_ pid: pid_t, workspaceId: String) { table.withLock { _ = $0[workspaceId]?.remove(pid) } }

    /// SIGKILL to each command's whole process group.
    func killAll(workspaceId: String) {
        for pid in table.withLock({ $0[workspaceId] ?? [] }) { kill(-pid, SIGKILL) }
    }
}
