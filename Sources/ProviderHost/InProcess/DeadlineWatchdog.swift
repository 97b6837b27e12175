import Foundation
import ProviderWire

/// One thread that fires call deadlines, shared by every provider instance.
///
/// Registering a deadline is a lock and a heap insert; the thread is woken only when the new deadline is earlier than
/// the one it sleeps toward — with uniform timeouts, almost never. (A timer per call on an event loop cost two
/// cross-thread wake-ups per verb.)
final class DeadlineWatchdog: @unchecked Sendable {
    static let shared = DeadlineWatchdog()

    private struct Entry {
        var deadline: UInt64
        var id: UInt64
    }

    private let condition = NSCondition()
    private var heap: [Entry] = []
    private var actions: [UInt64: @Sendable () -> Void] = [:]
    private var nextId: UInt64 = 1
    private var sleepingUntil: UInt64 = .max

    private init() {
        let thread = Thread { [unowned self] in self.run() }
        thread.name = "molecule-deadlines"
        thread.start()
    }

    /// Runs `action` on the watchdog thread at `deadline` (CLOCK_MONOTONIC ns) unless cancelled first.
    /// Returns a token for ``cancel(_:)``.
    func schedule(at deadline: UInt64, _ action: @escaping @Sendable () -> Void) -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        let id = nextId
        nextId += 1
        actions[id] = action
        push(Entry(deadline: deadline, id: id))
        if deadline < sleepingUntil { condition.signal() }
        return id
    }

    /// Forgets a deadline; its action will not run. The heap entry is dropped lazily when it comes due.
    func cancel(_ id: UInt64) {
        condition.lock()
        actions[id] = nil
        condition.unlock()
    }

    private func run() {
        condition.lock()
        while true {
            let now = MonotonicClock.now()
            var due: [@Sendable () -> Void] = []
            while let first = heap.first, first.deadline <= now {
                pop()
                if let action = actions.removeValue(forKey: first.id) { due.append(action) }
            }
            if !due.isEmpty {
                condition.unlock()
                due.forEach { $0() }
                condition.lock()
                continue
            }
            if heap.count > 4096 && actions.count < heap.count / 4 { compact() }
            sleepingUntil = heap.first?.deadline ?? .max
            if sleepingUntil == .max {
                condition.wait()
            } else {
                let seconds = Double(sleepingUntil - now) / 1e9
                _ = condition.wait(until: Date(timeIntervalSinceNow: seconds))
            }
            sleepingUntil = .max
        }
    }

    /// Drops cancelled entries when they dominate the heap (bounded memory under long timeouts).
    private func compact() {
        let live = heap.filter { actions[$0.id] != nil }
        heap = []
        live.forEach(push)
    }

    private func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if heap[parent].deadline <= heap[child].deadline { break }
            heap.swapAt(parent, child)
            child = parent
        }
    }

    private func pop() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count && heap[left].deadline < heap[smallest].deadline { smallest = left }
            if right < heap.count && heap[right].deadline < heap[smallest].deadline { smallest = right }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
