import Synchronization

/// Lifecycle work that outlives the request that started it (provision, restart). Tracked so that a graceful
/// shutdown waits for it instead of dropping it (Molecule lost provisions on exit).
public final class BackgroundTasks: Sendable {
    private let tasks = Mutex<[Int: Task<Void, Never>]>([:])
    private let next = Atomic<Int>(0)

    public init() {}

    /// Starts `body` as a tracked task.
    public func run(_ body: @escaping @Sendable () async -> Void) {
        let id = next.wrappingAdd(1, ordering: .relaxed).oldValue
        tasks.withLock { tasks in
            tasks[id] = Task {
                await body()
                self.tasks.withLock { _ = $0.removeValue(forKey: id) }
            }
        }
    }

    /// Number of tasks still running.
    public var count: Int { tasks.withLock { $0.count } }

    /// Waits for every task started so far (and any they start), bounded by `timeout`.
    public func drain(timeout: Duration = .seconds(60)) async {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let running = tasks.withLock { Array($0.values) }
            if running.isEmpty { return }
            for task in running { await task.value }
        }
    }
}
