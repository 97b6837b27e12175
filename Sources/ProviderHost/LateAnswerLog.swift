import ProviderWire
import Synchronization

/// A provider's own answer to a call the Host had already answered `DEADLINE_EXCEEDED` at its deadline.
///
/// It tells what the provider did once `is_cancelled` turned non-zero: an error status means it gave up (and must have
/// left nothing behind); `OK` means it finished the work anyway, which the caller never learnt of.
public struct LateAnswer: Sendable, Hashable {
    public var verb: Verb
    /// The provider's status (`ok` when it completed the verb after all).
    public var status: ProviderStatus
    public var message: String
    /// How long after the call's deadline the answer came, in milliseconds.
    public var afterDeadlineMs: Int
}

/// The late answers of one provider instance: a count and the most recent few (for operators and the contract suite).
final class LateAnswerLog: Sendable {
    static let kept = 32
    private let state = Mutex<(count: Int, recent: [LateAnswer])>((0, []))

    func record(_ verb: Verb, status: ProviderStatus, message: String, deadline: UInt64) {
        let now = MonotonicClock.now()
        let late = LateAnswer(verb: verb, status: status, message: message, afterDeadlineMs: now > deadline ? Int((now - deadline) / 1_000_000) : 0)
        state.withLock { state in
            state.count += 1
            state.recent.append(late)
            if state.recent.count > Self.kept { state.recent.removeFirst(state.recent.count - Self.kept) }
        }
    }

    var count: Int { state.withLock { $0.count } }
    var recent: [LateAnswer] { state.withLock { $0.recent } }
}
