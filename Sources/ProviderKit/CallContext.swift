import ProviderABI
import ProviderWire

/// What a verb knows about the call it is serving: the verb, the deadline, cancellation, and the Host's log.
public struct CallContext: @unchecked Sendable {
    /// The verb being served.
    public let verb: Verb
    /// The Host's id for this call (for log correlation).
    public let callId: UInt64
    /// CLOCK_MONOTONIC nanoseconds after which the Host stops waiting; `nil` = no deadline.
    public let deadline: UInt64?
    private let call: UnsafePointer<mp_call>?

    init(verb: Verb, call: UnsafePointer<mp_call>?) {
        self.verb = verb
        self.call = call
        self.callId = call?.pointee.call_id ?? 0
        let deadline = call?.pointee.deadline_mono_ns ?? 0
        self.deadline = deadline == 0 ? nil : deadline
    }

    private init(verb: Verb, callId: UInt64, deadline: UInt64) {
        self.verb = verb
        self.call = nil
        self.callId = callId
        self.deadline = deadline
    }

    /// A context for calling a provider's Swift methods directly (tests, benchmarks): no deadline, never cancelled.
    public static func direct(_ verb: Verb) -> CallContext { CallContext(verb: verb, call: nil) }

    /// A context not cancelled with the call, bounded by its own `seconds`: for a backend step that must not be
    /// abandoned half-way (an engine finishes a create whose answer nobody waits for), and for undoing what a call
    /// started once it failed or was cancelled (a half-made instance must not outlive the error that reports it).
    public func detached(seconds: UInt64 = 10) -> CallContext {
        CallContext(verb: verb, callId: callId, deadline: MonotonicClock.now() &+ seconds &* 1_000_000_000)
    }

    /// Milliseconds left before the deadline (`Int.max` without one; 0 once passed).
    public var remainingMilliseconds: Int {
        guard let deadline else { return Int.max }
        let now = MonotonicClock.now()
        return deadline > now ? Int((deadline - now) / 1_000_000) : 0
    }

    /// True once the deadline passed or the Host abandoned the call.
    public var isCancelled: Bool {
        if let deadline, MonotonicClock.now() >= deadline { return true }
        guard let call else { return false }
        return HostServices.current?.isCancelled(call) ?? false
    }

    /// Throws DEADLINE_EXCEEDED once ``isCancelled``; call it in loops.
    public func checkDeadline(_ what: @autoclosure () -> String = "") throws(ProviderError) {
        if isCancelled {
            let detail = what()
            throw .deadlineExceeded("\(verb) ran past its deadline\(detail.isEmpty ? "" : " while \(detail)")")
        }
    }

    /// Writes a line into the Host's log, tagged with this call.
    public func log(_ level: HostServices.LogLevel, _ message: String) {
        HostServices.current?.log(level, "[\(verb) #\(callId)] \(message)")
    }
}
