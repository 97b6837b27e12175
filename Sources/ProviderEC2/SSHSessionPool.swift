import ProviderWire
import Synchronization

/// Authenticated SSH sessions kept for reuse per instance, so a burst of files verbs pays the TCP connection, the key
/// exchange, Instance Connect and authentication once. A session is lent to one verb at a time; an idle one expires
/// after `idleLimitMs`, is checked with a channel round trip before it is lent again, and is dropped with its instance.
final class SSHSessionPool: Sendable {
    private struct Idle {
        var session: SSHSession
        var since: UInt64
    }

    private let idle = Mutex<[String: [Idle]]>([:])
    private let idleLimitNs: UInt64
    private let maxIdlePerInstance = 4

    /// `idleLimitMs == 0` disables reuse.
    init(idleLimitMs: Int) { idleLimitNs = UInt64(max(0, idleLimitMs)) * 1_000_000 }

    /// A live idle session to `instanceId`, if one is kept.
    func take(_ instanceId: String) -> SSHSession? {
        while true {
            let (candidate, expired) = idle.withLock { idle -> (Idle?, [SSHSession]) in
                let expired = removeExpired(&idle)
                var list = idle[instanceId] ?? []
                let entry = list.popLast()
                idle[instanceId] = list.isEmpty ? nil : list
                return (entry, expired)
            }
            _ = expired  // closed here, outside the lock
            guard let candidate else { return nil }
            // Returned moments ago: alive. Idle longer: one channel round trip proves it before it is lent.
            if MonotonicClock.now() - candidate.since < 2_000_000_000 || candidate.session.isAlive() { return candidate.session }
        }
    }

    /// Returns a session after a verb that used it without a transport failure; expired sessions of every instance
    /// are closed on the way, so instances that are never used again keep nothing open.
    func give(_ session: SSHSession, instanceId: String) {
        guard idleLimitNs > 0 else { return }
        let expired = idle.withLock { idle -> [SSHSession] in
            let expired = removeExpired(&idle)
            var list = idle[instanceId] ?? []
            guard list.count < maxIdlePerInstance else { return expired }
            list.append(Idle(session: session, since: MonotonicClock.now()))
            idle[instanceId] = list
            return expired
        }
        _ = expired  // closed here, outside the lock
    }

    /// Takes every expired session out of `idle` (of every instance); the caller closes them after unlocking.
    private func removeExpired(_ idle: inout [String: [Idle]]) -> [SSHSession] {
        let now = MonotonicClock.now()
        var expired: [SSHSession] = []
        for (key, list) in idle {
            expired += list.filter { now - $0.since > idleLimitNs }.map(\.session)
            let kept = list.filter { now - $0.since <= idleLimitNs }
            idle[key] = kept.isEmpty ? nil : kept
        }
        return expired
    }

    /// Drops every idle session to an instance (it was terminated); they are closed outside the lock.
    func forget(_ instanceId: String) {
        let dropped = idle.withLock { $0.removeValue(forKey: instanceId) }
        _ = dropped
    }
}
