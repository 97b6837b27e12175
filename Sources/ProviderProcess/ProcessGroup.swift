import Foundation
import ProviderKit
import ProviderWire

/// A workspace's process group, detached from the Host in its own session.
///
/// Identity survives pid reuse: a group is the leader pid *and* the workload's start time from `/proc`.
struct ProcessGroup: Codable, Sendable, Hashable {
    /// The process group id (the launcher shell's pid; it exits at once, the group lives on).
    var pgid: Int32
    /// The workload's pid.
    var pid: Int32
    /// The workload's start time in clock ticks since boot (`/proc/<pid>/stat` field 22).
    var startTicks: UInt64

    var reference: String { "pgid:\(pgid)" }

    /// When the workload started, milliseconds since the Unix epoch (boot time + start ticks).
    var startedAtMs: Int64 {
        let stat = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8)) ?? ""
        let boot = stat.split(separator: "\n").first { $0.hasPrefix("btime ") }.flatMap { Int64($0.dropFirst(6)) } ?? 0
        let ticks = max(1, Int64(sysconf(Int32(_SC_CLK_TCK))))
        return (boot * 1000) + Int64(startTicks) * 1000 / ticks
    }

    /// Launches `command` with output appended to `logFile`, in a new session, and returns once it runs.
    static func spawn(
        command: [String],
        environment: [String: String],
        workingDirectory: String,
        logFile: String,
        pidFile: String
    ) throws(ProviderError) -> ProcessGroup {
        // The shell backgrounds the workload and exits, so the workload is re-parented to init (no zombie in the
        // Host) while keeping the shell's process group, which stop/pause signal as a whole.
        let script = #"cd "$1" || exit 97; log=$2; pidfile=$3; shift 3; "$@" >>"$log" 2>&1 </dev/null & echo $! >"$pidfile""#
        unlink(pidFile)
        let argv = ["/bin/sh", "-c", script, "molecule-launch", workingDirectory, logFile, pidFile] + command
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // POSIX_SPAWN_SETSID (glibc >= 2.26; not imported into Swift): a new session, detached from the Host's terminal;
        // and default signal dispositions, whatever the Host ignores.
        ChildSignals.apply(to: &attributes, flags: 0x80)
        // The workspace gets stdin/stdout/stderr only: never the Host's listening socket, database connections or
        // provider handles (inherited descriptors kept a dead Host's port bound and its connections open).
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let closeFrom = ChildSignals.addCloseFrom { _ = closeFrom(&actions, 3) }
        var launcher: pid_t = 0
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArgv.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        let rc = posix_spawn(&launcher, "/bin/sh", &actions, &attributes, cArgv, cEnv)
        guard rc == 0 else { throw .internal("posix_spawn /bin/sh failed: \(String(cString: strerror(rc)))", nativeCode: rc) }
        var status: Int32 = 0
        while waitpid(launcher, &status, 0) == -1 && errno == EINTR {}
        let exitCode = (status >> 8) & 0xff
        guard status & 0x7f == 0, exitCode == 0 else {
            throw .invalidArgument("could not start workspace command \(command) (launcher exited with \(exitCode))")
        }
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { throw .internal("workspace launcher did not report a pid") }
        guard let stat = ProcStat(pid: pid) else {
            throw .invalidArgument("workspace command \(command) exited immediately; see the workspace's logs")
        }
        return ProcessGroup(pgid: launcher, pid: pid, startTicks: stat.startTicks)
    }

    /// The workload still runs (not a zombie, and the pid was not reused).
    var isAlive: Bool {
        guard let stat = ProcStat(pid: pid), stat.startTicks == startTicks else { return false }
        return stat.state != "Z" && stat.state != "X"
    }

    var state: InstanceState {
        guard let stat = ProcStat(pid: pid), stat.startTicks == startTicks, stat.state != "Z", stat.state != "X" else {
            return .stopped
        }
        return stat.state == "T" ? .paused : .running
    }

    /// SIGTERM to the group (and SIGCONT, so a paused group can exit), then SIGKILL after the grace.
    func terminate(graceMilliseconds: Int) throws(ProviderError) {
        guard isAlive else {
            kill(-pgid, SIGKILL)
            return
        }
        kill(-pgid, SIGTERM)
        kill(-pgid, SIGCONT)
        if waitUntil(milliseconds: graceMilliseconds, { !isAlive }) {
            kill(-pgid, SIGKILL)
            return
        }
        kill(-pgid, SIGKILL)
        if !waitUntil(milliseconds: 2000, { !isAlive }) {
            throw .internal("process group \(pgid) survived SIGKILL for 2 s")
        }
    }

    /// Sends `signal` to the group and waits until the workload reaches `state`, at most `timeoutMs` (a process in
    /// uninterruptible I/O sleep — kernel state D — takes the signal only when it wakes).
    func signal(_ signal: Int32, until state: InstanceState, timeoutMs: Int) throws(ProviderError) {
        guard isAlive else { throw .conflict("workspace process \(pid) is not running") }
        if kill(-pgid, signal) != 0 { throw .internal("kill(-\(pgid), \(signal)) failed: errno \(errno)", nativeCode: errno) }
        if !waitUntil(milliseconds: timeoutMs, { self.state == state }) {
            let observed = ProcStat(pid: pid).map { String($0.state) } ?? "gone"
            throw .deadlineExceeded(
                "workspace process \(pid) did not reach state \(state.rawValue) within \(timeoutMs) ms (kernel state \(observed))")
        }
    }

    /// Polls `condition` for at most `milliseconds` (from 5 ms, backing off to 50 ms); true if it became true.
    private func waitUntil(milliseconds: Int, _ condition: () -> Bool) -> Bool {
        let deadline = MonotonicClock.deadline(afterMilliseconds: milliseconds)
        return Poll.until(deadline: deadline, initialDelay: .milliseconds(5), maxDelay: .milliseconds(50)) { condition() ? true : nil } ?? false
    }
}

extension ProcessGroup {
    /// The variables that label a workspace's process group (beside ``AgentEnvironment/Name/workspaceId``), set at
    /// provider-owned precedence so a user's `env` cannot forge them.
    enum Label {
        static let owner = "MOLECULE_OWNER"
        static let stateDir = "MOLECULE_STATE_DIR"
        static let managed = "MOLECULE_MANAGED"
    }

    /// A live process group labelled (in its environment) with `workspaceId` under `stateDir` — found by scanning
    /// `/proc`, so a group whose metadata was never written (the Host died between spawn and record) is not lost.
    static func find(workspaceId: String, stateDir: String) -> (group: ProcessGroup, owner: String)? {
        labelled(stateDir: stateDir).first { $0.workspaceId == workspaceId }.map { ($0.group, $0.owner) }
    }

    /// Every live process group labelled with `stateDir`: (workspace, owner, group), one per group.
    static func labelled(stateDir: String) -> [(workspaceId: String, owner: String, group: ProcessGroup)] {
        let marker = "\(Label.stateDir)=\(stateDir)"
        let workspacePrefix = AgentEnvironment.Name.workspaceId + "="
        let ownerPrefix = Label.owner + "="
        var groups: [Int32: (workspaceId: String, owner: String, group: ProcessGroup)] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let stat = ProcStat(pid: pid), stat.state != "Z", stat.state != "X",
                let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ")
            else { continue }
            let variables = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard variables.contains(marker),
                let workspace = variables.first(where: { $0.hasPrefix(workspacePrefix) })?.dropFirst(workspacePrefix.count),
                let owner = variables.first(where: { $0.hasPrefix(ownerPrefix) })?.dropFirst(ownerPrefix.count)
            else { continue }
            // The group's workload is its oldest member.
            if let known = groups[stat.pgid], known.group.startTicks <= stat.startTicks { continue }
            groups[stat.pgid] = (String(workspace), String(owner), ProcessGroup(pgid: stat.pgid, pid: pid, startTicks: stat.startTicks))
        }
        return Array(groups.values)
    }
}

/// The fields of `/proc/<pid>/stat` the provider needs.
struct ProcStat {
    var state: Character
    var pgid: Int32
    var startTicks: UInt64

    init?(pid: Int32) {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm)": field 3 is the state, field 22 the start time.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let state = fields[0].first, let pgid = Int32(fields[2]), let start = UInt64(fields[19]) else { return nil }
        self.state = state
        self.pgid = pgid
        self.startTicks = start
    }
}
