import Synchronization

/// The calls in flight in this process, by call id: what `mp_host_services.is_cancelled` consults.
///
/// Providers get a call id, never a pointer into Host memory. A provider thread that asks about a call after the verb
/// returned finds no entry and is told "cancelled" — never freed memory.
final class CallRegistry: Sendable {
    static let shared = CallRegistry()

    private let calls = Mutex<[UInt64: CallState]>([:])

    func register(_ id: UInt64, _ state: CallState) {
        calls.withLock { $0[id] = state }
    }

    func remove(_ id: UInt64) {
        _ = calls.withLock { $0.removeValue(forKey: id) }
    }

    /// True when the call was abandoned or is no longer in flight ("no such call").
    func isCancelled(_ id: UInt64) -> Bool {
        calls.withLock { $0[id] }?.isAbandoned ?? true
    }

    /// How many calls are registered (tests: nothing leaks).
    var count: Int { calls.withLock { $0.count } }
}
