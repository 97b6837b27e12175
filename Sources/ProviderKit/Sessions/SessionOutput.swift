import Foundation
import ProviderWire

/// A session's output: one byte stream numbered from 0, of which the last ``capacity`` bytes are kept, read after a
/// cursor with a bounded wait — the buffer behind `session_read` on every provider.
///
/// The backend's reader thread appends and finally calls ``finish(exitCode:)``; any number of readers wait in
/// ``read(_:context:)``. Thread-safe.
public final class SessionOutput: @unchecked Sendable {
    /// The most bytes kept; older ones are dropped (a reader behind them is told how many it lost).
    public let capacity: Int
    private let condition = NSCondition()
    private var buffer: [UInt8] = []
    /// The stream offset of `buffer[0]`.
    private var base: Int64 = 0
    private var exitCode: Int?
    private var finished = false

    public init(capacity: Int = 1 << 20) { self.capacity = max(1024, capacity) }

    /// The offset one past the newest byte.
    public var end: Int64 { condition.withLock { base + Int64(buffer.count) } }

    /// Whether the command has ended (its last output may still be unread).
    public var isFinished: Bool { condition.withLock { finished } }

    /// How the command ended, once it has.
    public var finalExitCode: Int? { condition.withLock { exitCode } }

    /// Adds output; wakes waiting readers.
    public func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        condition.withLock {
            buffer.append(contentsOf: bytes)
            // Trim in steps of a quarter: appending stays amortised O(1).
            if buffer.count > capacity + capacity / 4 {
                let excess = buffer.count - capacity
                buffer.removeFirst(excess)
                base += Int64(excess)
            }
            condition.broadcast()
        }
    }

    /// Marks the end of the stream: the command exited with `exitCode` (128 + N for signal N). Later calls are ignored.
    public func finish(exitCode: Int) {
        condition.withLock {
            guard !finished else { return }
            finished = true
            self.exitCode = exitCode
            condition.broadcast()
        }
    }

    /// The bytes after `request.cursor`, waiting up to `wait_ms` (bounded by the call's deadline and cancellation) when
    /// there are none yet.
    public func read(_ request: SessionReadRequest, context: CallContext) throws(ProviderError) -> SessionReadResponse {
        guard request.cursor >= 0 else { throw .invalidArgument("cursor \(request.cursor) is negative") }
        let wait = request.waitMs ?? 0
        guard (0...SessionReadRequest.maxWaitMs).contains(wait) else {
            throw .invalidArgument("wait_ms \(wait) is outside 0...\(SessionReadRequest.maxWaitMs)")
        }
        let limit = request.maxBytes ?? SessionReadRequest.maxBytes
        guard (1...SessionReadRequest.maxBytes).contains(limit) else {
            throw .invalidArgument("max_bytes \(limit) is outside 1...\(SessionReadRequest.maxBytes)")
        }
        let until = MonotonicClock.now() &+ UInt64(min(wait, context.remainingMilliseconds)) &* 1_000_000
        condition.lock()
        defer { condition.unlock() }
        if request.cursor > base + Int64(buffer.count) {
            throw .invalidArgument("cursor \(request.cursor) is past the end of the session's output (\(base + Int64(buffer.count)))")
        }
        // Wake at least every 50 ms to notice a cancelled call.
        while request.cursor >= base + Int64(buffer.count), !finished, MonotonicClock.now() < until, !context.isCancelled {
            let left = Double(until &- MonotonicClock.now()) / 1e9
            _ = condition.wait(until: Date(timeIntervalSinceNow: min(0.05, max(0.001, left))))
        }
        let end = base + Int64(buffer.count)
        let start = max(request.cursor, base)
        let stop = min(end, start + Int64(limit))
        let data = stop > start ? Data(buffer[Int(start - base)..<Int(stop - base)]) : Data()
        let exited = finished && stop == end
        return SessionReadResponse(
            dataBase64: data.base64EncodedString(), cursor: stop, dropped: max(0, base - request.cursor), exited: exited,
            exitCode: exited ? exitCode : nil
        )
    }
}
