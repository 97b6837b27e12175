import Foundation
import HostStore
import Logging
import ServiceLifecycle
import Synchronization

/// Coalesces agent heartbeats: each request parks its beat (the latest per workspace wins) and waits; every few
/// milliseconds one statement writes the whole batch and applies the status transitions. Thousands of agents then
/// cost one UPDATE per flush instead of one per beat, and each caller still learns whether its write landed.
public final class HeartbeatCoalescer: Service, Sendable {
    struct Pending {
        var beats: [UUID: WorkspaceStore.Heartbeat] = [:]
        var waiters: [CheckedContinuation<Result<Void, any Error>, Never>] = []
    }

    private let store: WorkspaceStore
    private let interval: Duration
    private let state = Mutex(Pending())
    private let onTransition: @Sendable ([WorkspaceStore.Transition]) async -> Void
    private let logger: Logger
    /// Flushes written (for /metrics and the benchmark).
    public let flushes = Atomic<Int>(0)

    public init(
        store: WorkspaceStore,
        interval: Duration,
        logger: Logger,
        onTransition: @escaping @Sendable ([WorkspaceStore.Transition]) async -> Void
    ) {
        self.store = store
        self.interval = interval
        self.logger = logger
        self.onTransition = onTransition
    }

    /// Queues a beat and waits until the batch holding it is written (or failed: the error is rethrown).
    public func submit(_ beat: WorkspaceStore.Heartbeat) async throws {
        let result = await withCheckedContinuation { continuation in
            state.withLock { pending in
                pending.beats[beat.id] = beat
                pending.waiters.append(continuation)
            }
        }
        try result.get()
    }

    /// Flushes in flight at once: a flush waits for the database, and the next batch should not wait behind it.
    static let maximumConcurrentFlushes = 4

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                var running = 0
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.interval)
                    if running >= Self.maximumConcurrentFlushes {
                        _ = await group.next()
                        running -= 1
                    }
                    let batch = self.take()
                    guard !batch.waiters.isEmpty else { continue }
                    running += 1
                    group.addTask { await self.write(batch) }
                }
            }
        }
        await flush()  // nothing parked is dropped on shutdown
    }

    private func take() -> Pending {
        state.withLock { pending -> Pending in
            let taken = pending
            pending = Pending()
            return taken
        }
    }

    /// Writes everything parked now.
    public func flush() async {
        await write(take())
    }

    private func write(_ batch: Pending) async {
        guard !batch.waiters.isEmpty else { return }
        let result: Result<Void, any Error>
        do {
            // Sorted by id: concurrent flushes lock rows in one order, so they can wait on each other but never deadlock.
            let transitions = try await store.applyHeartbeats(batch.beats.values.sorted { $0.id.uuidString < $1.id.uuidString })
            flushes.add(1, ordering: .relaxed)
            if !transitions.isEmpty { await onTransition(transitions) }
            result = .success(())
        } catch {
            logger.warning("heartbeat flush failed", metadata: ["beats": "\(batch.beats.count)", "error": "\(error)"])
            result = .failure(error)
        }
        for waiter in batch.waiters { waiter.resume(returning: result) }
    }
}
