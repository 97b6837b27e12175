import ProviderWire
import Synchronization

/// The running instance of each workspace, remembered for a few seconds so a burst of files verbs costs one
/// DescribeInstances. Forgotten whenever this provider stops, pauses or launches the workspace, and after a verb whose
/// connection failed; an instance changed behind the provider's back is at most `ttlMs` stale, and then only its SSH
/// connection fails.
final class RunningInstanceCache: Sendable {
    private struct Entry {
        var instance: EC2Instance
        var expires: UInt64
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let ttlNs: UInt64

    init(ttlMs: Int) { ttlNs = UInt64(max(0, ttlMs)) * 1_000_000 }

    func get(_ workspaceId: String) -> EC2Instance? {
        entries.withLock { entries in
            guard let entry = entries[workspaceId], entry.expires > MonotonicClock.now() else {
                entries[workspaceId] = nil
                return nil
            }
            return entry.instance
        }
    }

    func put(_ instance: EC2Instance, for workspaceId: String) {
        guard ttlNs > 0 else { return }
        entries.withLock { entries in
            let now = MonotonicClock.now()
            if entries.count > 10_000 { entries = entries.filter { $0.value.expires > now } }
            entries[workspaceId] = Entry(instance: instance, expires: now + ttlNs)
        }
    }

    func forget(_ workspaceId: String) { entries.withLock { $0[workspaceId] = nil } }
}
