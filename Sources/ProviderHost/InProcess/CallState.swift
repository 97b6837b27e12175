import Synchronization

/// One in-flight verb call: answered exactly once, by the worker thread or by the deadline, whichever comes first.
final class CallState: Sendable {
    private let answered = Atomic<Bool>(false)
    private let abandoned = Atomic<Bool>(false)

    /// True once the Host stopped waiting (deadline or cancellation); providers poll it via `is_cancelled`.
    var isAbandoned: Bool { abandoned.load(ordering: .acquiring) }

    /// Claims the right to answer; only the first caller gets `true`.
    func claimAnswer() -> Bool {
        answered.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    }

    func abandon() { abandoned.store(true, ordering: .releasing) }
}
