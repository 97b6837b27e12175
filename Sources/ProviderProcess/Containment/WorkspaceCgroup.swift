import Foundation
import ProviderKit
import ProviderWire

/// One workspace's cgroups: a directory named after the workspace id in each hierarchy the provider uses.
///
/// The *primary* directory holds membership and the freezer: v2 when the machine has it (`cgroup.freeze`,
/// `cgroup.events`, `cgroup.kill`), else v1's `freezer` hierarchy. Memory, pids and CPU limits live in whichever
/// hierarchy offers that controller. Recorded in the workspace's `meta.json`, so a restarted provider finds the
/// workspace's processes by cgroup, whatever cgroup the new provider process itself was started in.
struct WorkspaceCgroup: Codable, Sendable, Hashable {
    /// A directory in one hierarchy and that hierarchy's version (1 or 2).
    struct Directory: Codable, Sendable, Hashable {
        var path: String
        var version: Int
    }

    var primary: Directory
    var memory: Directory?
    var pids: Directory?
    var cpu: Directory?

    /// Every distinct directory, primary first.
    var directories: [Directory] {
        var seen: Set<String> = []
        return [primary, memory, pids, cpu].compactMap { $0 }.filter { seen.insert($0.path).inserted }
    }

    /// The `cgroup.procs` files the supervisor joins before it forks the workload.
    var procsFiles: [String] { directories.map { $0.path + "/cgroup.procs" } }

    // MARK: Set-up and removal

    /// Creates the directories and writes `limits`. A limit the machine cannot enforce is an error naming it.
    func create(limits: ResourceLimits) throws(ProviderError) {
        for directory in directories {
            // The provider instance's parent exists only while it has workspaces (see remove()).
            let parent = (directory.path as NSString).deletingLastPathComponent
            if mkdir(parent, 0o755) != 0 && errno != EEXIST {
                throw .unavailable("cannot create cgroup \(parent): \(String(cString: strerror(errno)))", nativeCode: errno)
            }
            if directory.version == 2 {
                // Controllers this directory needs, delegated from the parent (already enabled above it at start-up).
                let wanted = [(memory, "memory"), (pids, "pids"), (cpu, "cpu")].filter { $0.0?.path == directory.path }.map { "+" + $0.1 }
                if !wanted.isEmpty { try? write(wanted.joined(separator: " "), to: parent + "/cgroup.subtree_control") }
            }
            if mkdir(directory.path, 0o755) != 0 && errno != EEXIST {
                throw .unavailable("cannot create cgroup \(directory.path): \(String(cString: strerror(errno)))", nativeCode: errno)
            }
        }
        if let bytes = limits.memoryBytes {
            guard let memory else { throw .unavailable("a memory limit is configured but this machine offers no memory cgroup controller") }
            if memory.version == 2 {
                try write("\(bytes)", to: memory.path + "/memory.max")
                try? write("0", to: memory.path + "/memory.swap.max")
            } else {
                try write("\(bytes)", to: memory.path + "/memory.limit_in_bytes")
                // With swap accounting, memory+swap gets the same bound: swapping out is no way round the limit.
                if FileManager.default.fileExists(atPath: memory.path + "/memory.memsw.limit_in_bytes") {
                    try? write("\(bytes)", to: memory.path + "/memory.memsw.limit_in_bytes")
                }
            }
        }
        if let count = limits.pids {
            guard let pids else { throw .unavailable("a pids limit is configured but this machine offers no pids cgroup controller") }
            try write("\(count)", to: pids.path + "/pids.max")
        }
        if let cpus = limits.cpus {
            guard let cpu else { throw .unavailable("a CPU limit is configured but this machine offers no cpu cgroup controller") }
            let period = 100_000
            let quota = max(1000, Int((cpus * Double(period)).rounded()))
            if cpu.version == 2 {
                try write("\(quota) \(period)", to: cpu.path + "/cpu.max")
            } else {
                try write("\(period)", to: cpu.path + "/cpu.cfs_period_us")
                try write("\(quota)", to: cpu.path + "/cpu.cfs_quota_us")
            }
        }
    }

    /// Removes the (empty) directories, and the provider instance's parent with them when it holds no other
    /// workspace; a directory that still has members stays, and is reported.
    @discardableResult
    func remove() -> [String] {
        var left: [String] = []
        for directory in directories where FileManager.default.fileExists(atPath: directory.path) {
            if rmdir(directory.path) != 0 && errno != ENOENT { left.append(directory.path) }
        }
        for directory in directories { rmdir((directory.path as NSString).deletingLastPathComponent) }
        return left
    }

    // MARK: Membership

    /// The pids in the workspace's primary cgroup (every process of the workspace, however it forked or detached).
    var members: [Int32] {
        let text = (try? String(contentsOfFile: primary.path + "/cgroup.procs", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { Int32($0) }
    }

    var exists: Bool { FileManager.default.fileExists(atPath: primary.path) }

    /// Sends `signal` to every member.
    func signalMembers(_ signal: Int32) {
        for pid in members { kill(pid, signal) }
    }

    // MARK: Freezer

    /// Freezes (or thaws) every member and waits until the kernel reports the state, at most `timeoutMs`.
    func setFrozen(_ frozen: Bool, timeoutMs: Int) throws(ProviderError) {
        if primary.version == 2 {
            try write(frozen ? "1" : "0", to: primary.path + "/cgroup.freeze")
        } else {
            try write(frozen ? "FROZEN" : "THAWED", to: primary.path + "/freezer.state")
        }
        let deadline = MonotonicClock.deadline(afterMilliseconds: timeoutMs)
        let reached = Poll.until(deadline: deadline, initialDelay: .milliseconds(1), maxDelay: .milliseconds(20)) { isFrozen == frozen ? true : nil }
        if reached == nil {
            throw .deadlineExceeded(
                "cgroup \(primary.path) did not become \(frozen ? "frozen" : "thawed") within \(timeoutMs) ms (\(freezerReport))")
        }
    }

    /// Whether the kernel reports the cgroup frozen (v2 `cgroup.events` `frozen 1`; v1 `freezer.state` FROZEN).
    var isFrozen: Bool {
        if primary.version == 2 { return Self.keyed(primary.path + "/cgroup.events")["frozen"] == 1 }
        return (try? String(contentsOfFile: primary.path + "/freezer.state", encoding: .utf8))?.hasPrefix("FROZEN") == true
    }

    private var freezerReport: String {
        if primary.version == 2 { return "cgroup.events: frozen=\(Self.keyed(primary.path + "/cgroup.events")["frozen"] ?? -1)" }
        let state = (try? String(contentsOfFile: primary.path + "/freezer.state", encoding: .utf8)) ?? "unreadable"
        return "freezer.state: \(state.trimmingCharacters(in: .whitespacesAndNewlines))"
    }

    // MARK: Kill

    /// Kills every member, including any that double-forked or started its own session, and waits (at most
    /// `timeoutMs`) until the cgroup is empty. v2 has `cgroup.kill`; v1 freezes, SIGKILLs each member and thaws, so no
    /// member can fork between the listing and the signal.
    func killAll(timeoutMs: Int) throws(ProviderError) {
        let deadline = MonotonicClock.deadline(afterMilliseconds: timeoutMs)
        let emptied = Poll.until(deadline: deadline, initialDelay: .milliseconds(1), maxDelay: .milliseconds(20)) { () -> Bool? in
            if members.isEmpty { return true }
            if primary.version == 2, FileManager.default.fileExists(atPath: primary.path + "/cgroup.kill") {
                try? write("1", to: primary.path + "/cgroup.kill")
            } else {
                try? setFrozen(true, timeoutMs: 200)
                signalMembers(SIGKILL)
                try? setFrozen(false, timeoutMs: 200)
            }
            return members.isEmpty ? true : nil
        }
        if emptied == nil {
            throw .internal("cgroup \(primary.path) still has \(members.count) process(es) \(timeoutMs) ms after SIGKILL")
        }
    }

    // MARK: Usage and limit events

    /// What the workspace uses now and how often it hit its limits.
    struct Usage: Sendable, Hashable {
        var memoryBytes: Int64?
        var memoryLimitBytes: Int64?
        var pids: Int64?
        var pidsLimit: Int64?
        /// Processes the kernel's OOM killer killed in this cgroup.
        var oomKills: Int64 = 0
        /// Forks refused because the pids limit was reached.
        var pidsLimitHits: Int64 = 0
        /// CPU time used, microseconds (v2 `cpu.stat`; v1 needs cpuacct, not read).
        var cpuMicroseconds: Int64?
    }

    var usage: Usage {
        var usage = Usage()
        if let memory {
            if memory.version == 2 {
                usage.memoryBytes = Self.number(memory.path + "/memory.current")
                usage.memoryLimitBytes = Self.number(memory.path + "/memory.max")
                usage.oomKills = Self.keyed(memory.path + "/memory.events")["oom_kill"] ?? 0
            } else {
                usage.memoryBytes = Self.number(memory.path + "/memory.usage_in_bytes")
                usage.memoryLimitBytes = Self.number(memory.path + "/memory.limit_in_bytes").flatMap { $0 >= (1 << 62) ? nil : $0 }
                usage.oomKills = Self.keyed(memory.path + "/memory.oom_control")["oom_kill"] ?? 0
            }
        }
        if let pids {
            usage.pids = Self.number(pids.path + "/pids.current")
            usage.pidsLimit = Self.number(pids.path + "/pids.max")
            usage.pidsLimitHits = Self.keyed(pids.path + "/pids.events")["max"] ?? 0
        }
        if let cpu, cpu.version == 2 { usage.cpuMicroseconds = Self.keyed(cpu.path + "/cpu.stat")["usage_usec"] }
        return usage
    }

    // MARK: Files

    private func write(_ value: String, to path: String) throws(ProviderError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unavailable("cannot open \(path): \(String(cString: strerror(errno)))", nativeCode: errno) }
        defer { close(fd) }
        let written = value.withCString { Glibc.write(fd, $0, strlen($0)) }
        if written < 0 { throw .unavailable("cannot write \"\(value)\" to \(path): \(String(cString: strerror(errno)))", nativeCode: errno) }
    }

    /// A file holding one number ("max" reads as nil).
    static func number(_ path: String) -> Int64? {
        (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// A file of "key value" lines.
    static func keyed(_ path: String) -> [String: Int64] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        var values: [String: Int64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Int64(parts[1]) { values[String(parts[0])] = value }
        }
        return values
    }
}
