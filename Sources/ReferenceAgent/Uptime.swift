/// Time since the agent started, reported by `/health` and every heartbeat.
struct Uptime: Sendable {
    private let start = ContinuousClock.now

    /// Whole seconds since start.
    var seconds: Int { Int((ContinuousClock.now - start).components.seconds) }
}
