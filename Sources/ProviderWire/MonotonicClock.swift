#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CLOCK_MONOTONIC in nanoseconds: the clock of `mp_call.deadline_mono_ns` on both sides of the ABI.
public enum MonotonicClock {
    /// Nanoseconds since an arbitrary fixed point; never goes backwards.
    public static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// The deadline `milliseconds` from now.
    public static func deadline(afterMilliseconds milliseconds: Int) -> UInt64 {
        now() &+ UInt64(max(0, milliseconds)) &* 1_000_000
    }
}
