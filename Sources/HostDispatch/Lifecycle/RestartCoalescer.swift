import Foundation
import Synchronization

/// Concurrent restarts of one workspace coalesce: while a restart cycle runs, further requests only ask for one more
/// cycle when it ends, so N requests cost at most two cycles and never run two at once.
final class RestartCoalescer: Sendable {
    /// Workspaces with a cycle running → whether another cycle was asked for meanwhile.
    private let running = Mutex<[UUID: Bool]>([:])

    /// True when the caller must start the cycle loop; false when one runs and will go round once more.
    func begin(_ id: UUID) -> Bool {
        running.withLock { running in
            if running[id] != nil {
                running[id] = true
                return false
            }
            running[id] = false
            return true
        }
    }

    /// Called when a cycle ends: true when another was asked for (and is now owed), false when the loop is done.
    func again(_ id: UUID) -> Bool {
        running.withLock { running in
            if running[id] == true {
                running[id] = false
                return true
            }
            running[id] = nil
            return false
        }
    }
}
