import ProviderWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one way a provider waits for its backend: ask, sleep with backoff, ask again, until an answer, a deadline or a
/// cancelled call. It sleeps on the calling (provider worker) thread, never past the deadline.
public enum Poll {
    /// Calls `attempt` until it answers a value, and answers that value; answers `nil` once `deadline`
    /// (CLOCK_MONOTONIC nanoseconds) has passed or `isCancelled` is true. `attempt` runs at least once, and once more
    /// after the last sleep. Between attempts it sleeps `initialDelay`, doubling each time up to `maxDelay`.
    /// An error from `attempt` ends the wait and is thrown as it is.
    public static func until<T, E: Error>(
        deadline: UInt64,
        initialDelay: Duration,
        maxDelay: Duration,
        isCancelled: () -> Bool = { false },
        _ attempt: () throws(E) -> T?
    ) throws(E) -> T? {
        var delay = nanoseconds(initialDelay)
        let cap = max(delay, nanoseconds(maxDelay))
        while true {
            if let value = try attempt() { return value }
            let now = MonotonicClock.now()
            if now >= deadline || isCancelled() { return nil }
            sleep(nanoseconds: min(delay, deadline - now))
            delay = min(cap, delay &* 2)
        }
    }

    /// ``until(deadline:initialDelay:maxDelay:isCancelled:_:)`` for a verb: bounded by `limit` (if any) and by the call's
    /// deadline, and ended when the Host cancels the call.
    public static func until<T, E: Error>(
        _ context: CallContext,
        limit: UInt64? = nil,
        initialDelay: Duration,
        maxDelay: Duration,
        _ attempt: () throws(E) -> T?
    ) throws(E) -> T? {
        let deadline = min(limit ?? .max, context.deadline ?? .max)
        return try until(deadline: deadline, initialDelay: initialDelay, maxDelay: maxDelay, isCancelled: { context.isCancelled }, attempt)
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) &* 1_000_000_000 &+ UInt64(max(0, attoseconds) / 1_000_000_000)
    }

    static func sleep(nanoseconds: UInt64) {
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
    }
}
