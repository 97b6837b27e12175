import Foundation
import HostDispatch
import HostStore
import Logging
import ServiceLifecycle
import Synchronization

/// Coalesces agent heartbeats, write-behind: a beat is queued (the latest per workspace wins, so the queue is bounded
/// by the number of workspaces) and acknowledged at once; every few milliseconds one statement writes the whole batch
/// and applies the status transitions. Thousands of agents then cost one UPDATE per flush instead of one per beat,
/// and no request waits for the database. Failure is never silent: while the database is unreachable, new beats are
/// refused with that error (the API answers 503) until a flush succeeds. A beat the database refuses (bad data that
/// slipped past the edge's validation) is isolated: the batch is written beat by beat, the refused one is dropped and
/// counted — never merged back — so one workspace cannot delay another's.
public final class HeartbeatCoalescer: Service, Sendable {
    struct Pending {
        var beats: [UUID: WorkspaceStore.Heartbeat] = [:]
        /// The error of the last flush, while it keeps failing.
        var failure: (any Error)?
        var isEmpty: Bool { beats.isEmpty }
    }

    /// Writes each batch and records the status transitions it caused.
    private let lifecycle: WorkspaceLifecycle
    private let interval: Duration
    private let state = Mutex(Pending())
    private let logger: Logger
    /// Flushes written (for /metrics and the benchmark).
    public let flushes = Atomic<Int>(0)
    /// Beats the database refused, dropped after isolating them.
    public let rejected = Atomic<Int>(0)

    public init(lifecycle: WorkspaceLifecycle, interval: Duration, logger: Logger) {
        self.lifecycle = lifecycle
        self.interval = interval
        self.logger = logger
    }

    /// Queues a beat; throws the last flush's error while the database keeps refusing writes.
    public func submit(_ beat: WorkspaceStore.Heartbeat) throws {
        try state.withLock { pending in
            if let failure = pending.failure { throw failure }
            pending.beats[beat.id] = beat
        }
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
                    guard !batch.isEmpty else { continue }
                    running += 1
                    group.addTask { await self.write(batch) }
                }
            }
        }
        await flush()  // nothing parked is dropped on shutdown
    }

    private func take() -> Pending {
        state.withLock { pending -> Pending in
            var taken = Pending()
            swap(&taken.beats, &pending.beats)
            return taken
        }
    }

    /// Writes everything parked now.
    public func flush() async {
        await write(take())
    }

    private func write(_ batch: Pending) async {
        guard !batch.isEmpty else { return }
        // Sorted by id: concurrent flushes lock rows in one order, so they can wait on each other but never deadlock.
        let beats = batch.beats.values.sorted { $0.id.uuidString < $1.id.uuidString }
        do {
            try await lifecycle.applyHeartbeats(beats)
            flushes.add(1, ordering: .relaxed)
            state.withLock { $0.failure = nil }
        } catch  where Self.isOutage(error) {
            keep(beats, failure: error)
        } catch {
            // The database refused the statement, not the connection: some beat carries data it cannot store.
            // One by one, so every other beat lands now and only the refused ones are dropped.
            for (index, beat) in beats.enumerated() {
                do { try await lifecycle.applyHeartbeats([beat]) } catch  where Self.isOutage(error) {
                    keep(Array(beats[index...]), failure: error)
                    return
                } catch {
                    rejected.add(1, ordering: .relaxed)
                    logger.error("heartbeat refused by the database and dropped", metadata: ["workspace": "\(beat.id)", "error": "\(error)"])
                }
            }
            flushes.add(1, ordering: .relaxed)
            state.withLock { $0.failure = nil }
        }
    }

    /// Whether a flush failed because the database is unreachable (retry later) rather than refusing the data.
    static func isOutage(_ error: any Error) -> Bool { (error as? PostgresError)?.isUnavailable ?? false }

    /// Keeps `beats` for the next flush (newer ones win) and refuses new ones until a flush succeeds.
    private func keep(_ beats: [WorkspaceStore.Heartbeat], failure: any Error) {
        logger.warning("heartbeat flush failed", metadata: ["beats": "\(beats.count)", "error": "\(failure)"])
        state.withLock { pending in
            pending.failure = failure
            for beat in beats where pending.beats[beat.id] == nil { pending.beats[beat.id] = beat }
        }
    }
}
