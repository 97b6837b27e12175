import Foundation
import Synchronization

/// Runs blocking provider code (a library's constructors, `negotiate`, `create`) on a thread of its own and waits
/// for it at most `timeout`. On time-out the thread is abandoned — it may never return — and the caller gets nil.
enum BoundedWait {
    static func run<T: Sendable>(timeout: Duration, label: String, _ body: @escaping @Sendable () -> T) -> T? {
        let box = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            let value = body()
            box.withLock { $0 = value }
            done.signal()
        }
        thread.name = label
        thread.stackSize = 8 << 20
        thread.start()
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        guard done.wait(timeout: .now() + seconds) == .success else { return nil }
        return box.withLock { $0 }
    }
}
