import Foundation

/// The fields of `/proc/<pid>/stat` the provider needs.
struct ProcStat: Sendable {
    var state: Character
    var parent: Int32
    var pgid: Int32
    var startTicks: UInt64

    init?(pid: Int32) {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm)" (comm may hold spaces and parentheses: split after the last ")"): field 3 is the state,
        // 4 the parent, 5 the process group, 22 the start time.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let state = fields[0].first, let parent = Int32(fields[1]), let pgid = Int32(fields[2]),
            let start = UInt64(fields[19])
        else { return nil }
        self.state = state
        self.parent = parent
        self.pgid = pgid
        self.startTicks = start
    }

    /// Not a zombie and not dead.
    var isLive: Bool { state != "Z" && state != "X" }
    /// Stopped by a signal or traced.
    var isStopped: Bool { state == "T" || state == "t" }
}

/// A snapshot of the machine's processes as a tree (pid → parent), for containment without cgroups: a workspace is
/// its supervisor and every descendant — the supervisor is a child subreaper, so orphans re-parent to it and never
/// leave the tree.
struct ProcessTree {
    private var children: [Int32: [Int32]] = [:]
    private var stats: [Int32: ProcStat] = [:]

    /// Reads `/proc` once.
    init() {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let stat = ProcStat(pid: pid) else { continue }
            stats[pid] = stat
            children[stat.parent, default: []].append(pid)
        }
    }

    func stat(_ pid: Int32) -> ProcStat? { stats[pid] }

    /// `root` and every live descendant of it, parents before children (bounded by the process count).
    func descendants(of root: Int32) -> [Int32] {
        guard stats[root] != nil else { return [] }
        var found: [Int32] = [root]
        var index = 0
        while index < found.count && found.count <= stats.count {
            found += children[found[index]] ?? []
            index += 1
        }
        return found.filter { stats[$0]?.isLive == true }
    }

    /// Whether `pid` counts as stopped for a pause: stopped by the signal, a zombie, or blocked in `vfork` (state D)
    /// waiting for a child that is itself stopped — that parent cannot stop until its child execs or exits, and the
    /// child will not while it is stopped.
    func countsAsStopped(_ pid: Int32) -> Bool {
        guard let stat = stats[pid] else { return true }
        if stat.isStopped || !stat.isLive { return true }
        if stat.state == "D" { return (children[pid] ?? []).contains { stats[$0]?.isStopped == true } }
        return false
    }
}
