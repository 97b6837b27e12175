import Foundation
import ProviderKit
import ProviderWire

/// A workspace's running workload: the supervisor (`molecule-workload-supervisor`, a session leader and child
/// subreaper) and the command it forked, optionally inside the workspace's cgroup.
///
/// Identity survives pid reuse: each pid is recorded with its start time from `/proc`.
struct Workload: Codable, Sendable, Hashable {
    /// The supervisor's pid — also the workspace's session and process-group id.
    var supervisor: Int32
    var supervisorStartTicks: UInt64
    /// The workload's pid (the supervisor's child running the command).
    var pid: Int32
    /// The workload's start time in clock ticks since boot (`/proc/<pid>/stat` field 22).
    var startTicks: UInt64
    /// The workspace's cgroup, when contained by cgroup.
    var cgroup: WorkspaceCgroup?

    var reference: String { "pgid:\(supervisor)" }

    /// When the workload started, milliseconds since the Unix epoch (boot time + start ticks).
    var startedAtMs: Int64 {
        let stat = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8)) ?? ""
        let boot = stat.split(separator: "\n").first { $0.hasPrefix("btime ") }.flatMap { Int64($0.dropFirst(6)) } ?? 0
        let ticks = max(1, Int64(sysconf(Int32(_SC_CLK_TCK))))
        return (boot * 1000) + Int64(startTicks) * 1000 / ticks
    }

    // MARK: Start

    /// The files the supervisor writes for one workspace.
    struct Files: Sendable {
        /// "SUPERVISOR_PID WORKLOAD_PID", written once the command runs.
        var pidFile: String
        /// "exit N" or "signal N", written when the command ends.
        var exitFile: String
        /// The command's stdout and stderr (appended).
        var logFile: String
        /// What the supervisor printed if it could not start the command.
        var launchErrors: String
    }

    /// Starts `command` under `supervisor` (the executable's path), inside `cgroup` when given, and returns once it
    /// runs. The supervisor joins the cgroup before it forks the command, so nothing of the workspace runs outside it.
    static func spawn(
        supervisor: String, command: [String], environment: [String: String], workingDirectory: String, files: Files,
        cgroup: WorkspaceCgroup?
    ) throws(ProviderError) -> Workload {
        unlink(files.pidFile)
        unlink(files.exitFile)
        var argv = [supervisor, "--pid-file", files.pidFile, "--exit-file", files.exitFile, "--log", files.logFile, "--cwd", workingDirectory]
        for procs in cgroup?.procsFiles ?? [] { argv += ["--cgroup", procs] }
        argv += ["--"] + command
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // POSIX_SPAWN_SETSID (glibc >= 2.26; not imported into Swift): detached from the Host's terminal; and default
        // signal dispositions, whatever the Host ignores.
        ChildSignals.apply(to: &attributes, flags: 0x80)
        // stdin/stdout/stderr only: never the Host's listening socket, database connections or provider handles.
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, files.launchErrors, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        if let closeFrom = ChildSignals.addCloseFrom { _ = closeFrom(&actions, 3) }
        var launcher: pid_t = 0
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArgv.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        let rc = posix_spawn(&launcher, supervisor, &actions, &attributes, cArgv, cEnv)
        guard rc == 0 else {
            throw .unavailable("cannot start the workload supervisor \(supervisor): \(String(cString: strerror(rc)))", nativeCode: rc)
        }
        var status: Int32 = 0
        while waitpid(launcher, &status, 0) == -1 && errno == EINTR {}
        let exitCode = (status >> 8) & 0xff
        guard status & 0x7f == 0, exitCode == 0 else {
            let said = (Self.head(files.launchErrors, 4096) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            let reason = said.isEmpty ? "the supervisor exited with \(status & 0x7f == 0 ? "status \(exitCode)" : "signal \(status & 0x7f)")" : said
            if exitCode == 127 { throw .invalidArgument("could not start workspace command \(command): \(reason)") }
            throw .unavailable("could not start workspace command \(command): \(reason)")
        }
        guard let started = recover(files: files, cgroup: cgroup) else {
            let ended = Self.exitStatus(files.exitFile).map { " (\($0))" } ?? ""
            throw .invalidArgument("workspace command \(command) exited immediately\(ended); see the workspace's logs")
        }
        return started
    }

    /// The workload a live supervisor recorded in `files.pidFile`, if that supervisor still runs (its command line
    /// names this pid file, so a reused pid is never mistaken for it).
    static func recover(files: Files, cgroup: WorkspaceCgroup?) -> Workload? {
        guard let text = head(files.pidFile, 64) else { return nil }
        let pids = text.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
        guard pids.count == 2, let supervisorStat = ProcStat(pid: pids[0]), supervisorStat.isLive,
            let commandLine = FileManager.default.contents(atPath: "/proc/\(pids[0])/cmdline"),
            commandLine.split(separator: 0).contains(where: { String(decoding: $0, as: UTF8.self) == files.pidFile }),
            let workloadStat = ProcStat(pid: pids[1]), workloadStat.isLive, workloadStat.parent == pids[0]
        else { return nil }
        return Workload(
            supervisor: pids[0], supervisorStartTicks: supervisorStat.startTicks, pid: pids[1], startTicks: workloadStat.startTicks, cgroup: cgroup)
    }

    /// "exit 3", "signal 9" — how the command ended, if the supervisor recorded it.
    static func exitStatus(_ exitFile: String) -> String? {
        head(exitFile, 64)?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// At most `limit` bytes of a file the supervisor wrote: without a uid of its own a workload could write it too,
    /// and nothing it writes is read unbounded.
    static func head(_ path: String, _ limit: Int) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: limit)).map { String(decoding: $0, as: UTF8.self) }
    }

    // MARK: State

    /// The command still runs (not a zombie, and the pid was not reused).
    var isAlive: Bool {
        guard let stat = ProcStat(pid: pid), stat.startTicks == startTicks else { return false }
        return stat.isLive
    }

    private var supervisorAlive: Bool {
        guard let stat = ProcStat(pid: supervisor), stat.startTicks == supervisorStartTicks else { return false }
        return stat.isLive
    }

    var state: InstanceState {
        guard isAlive else { return .stopped }
        if let cgroup { return cgroup.isFrozen ? .paused : .running }
        // Pause stops the whole tree, the supervisor first of all, and nothing else ever stops the supervisor; the
        // workload itself may be in D (blocked in vfork on a stopped child) rather than T while paused.
        return ProcStat(pid: supervisor)?.isStopped == true ? .paused : .running
    }

    /// Every process of the workspace: the cgroup's members, or the supervisor's tree.
    var members: [Int32] {
        if let cgroup { return cgroup.members }
        guard supervisorAlive else { return isAlive ? [pid] : [] }
        return ProcessTree().descendants(of: supervisor)
    }

    // MARK: Pause and resume

    /// Stops (or continues) every process of the workspace and waits until the kernel says so, at most `timeoutMs`.
    func setPaused(_ paused: Bool, timeoutMs: Int) throws(ProviderError) {
        guard isAlive else { throw .conflict("workspace process \(pid) is not running") }
        if let cgroup { return try cgroup.setFrozen(paused, timeoutMs: timeoutMs) }
        // Without a freezer: signal the whole tree, again for members born meanwhile, until every one is stopped (or
        // blocked in vfork on a stopped child) — or running again.
        let deadline = MonotonicClock.deadline(afterMilliseconds: timeoutMs)
        let reached = Poll.until(deadline: deadline, initialDelay: .milliseconds(1), maxDelay: .milliseconds(20)) { () -> Bool? in
            let tree = ProcessTree()
            let members = tree.descendants(of: supervisor)
            for member in members { kill(member, paused ? SIGSTOP : SIGCONT) }
            let settled = ProcessTree()
            return members.allSatisfy { paused ? settled.countsAsStopped($0) : settled.stat($0)?.isStopped != true } ? true : nil
        }
        if reached == nil {
            let observed = ProcStat(pid: pid).map { String($0.state) } ?? "gone"
            throw .deadlineExceeded(
                "workspace processes did not \(paused ? "stop" : "continue") within \(timeoutMs) ms (workload \(pid) in kernel state \(observed))")
        }
    }

    // MARK: Stop

    /// SIGTERM to every process of the workspace (thawed first, so it can act on it), then after the grace SIGKILL
    /// to every one that is left — including processes that left the workload's session or process group.
    func terminate(graceMilliseconds: Int) throws(ProviderError) {
        if let cgroup {
            if cgroup.isFrozen { try? cgroup.setFrozen(false, timeoutMs: 1000) }
            cgroup.signalMembers(SIGTERM)
            if !waitUntil(milliseconds: graceMilliseconds, { cgroup.members.isEmpty }) {
                try cgroup.killAll(timeoutMs: 2000)
            }
            return
        }
        for member in members {
            kill(member, SIGTERM)
            kill(member, SIGCONT)
        }
        if waitUntil(milliseconds: graceMilliseconds, { members.isEmpty }) { return }
        // Children before the supervisor: a descendant whose subreaper died would re-parent to init and leave the tree.
        let emptied = waitUntil(milliseconds: 2000) {
            let left = members
            for member in left.reversed() where member != supervisor { kill(member, SIGKILL) }
            if left.allSatisfy({ $0 == supervisor }) { kill(supervisor, SIGKILL) }
            return members.isEmpty
        }
        if !emptied { throw .internal("workspace processes of supervisor \(supervisor) survived SIGKILL for 2 s: \(members)") }
    }

    /// Polls `condition` for at most `milliseconds` (from 2 ms, backing off to 50 ms); true if it became true.
    private func waitUntil(milliseconds: Int, _ condition: () -> Bool) -> Bool {
        let deadline = MonotonicClock.deadline(afterMilliseconds: milliseconds)
        return Poll.until(deadline: deadline, initialDelay: .milliseconds(2), maxDelay: .milliseconds(50)) { condition() ? true : nil } ?? false
    }
}
