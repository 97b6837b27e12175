import ProviderWire

/// Where a provider's code runs. Chosen per provider in the Host's configuration (`isolation:`).
public enum ProviderIsolation: String, Sendable, Hashable, Codable, CaseIterable {
    /// In a runner process of its own (the default): a crash, `exit`, hang or descriptor abuse costs only that
    /// provider's in-flight calls, and the runner is restarted.
    case process
    /// In the Host's own process: the fastest crossing, for trusted providers only — a fault takes the Host down.
    case inProcess = "in-process"
}

/// What an operator sees of a provider's execution (`providers inspect`, `/admin/providers`).
public struct ProviderRuntimeStatus: Sendable, Hashable, Codable {
    public var isolation: ProviderIsolation
    /// The runner's pid while one runs (process isolation).
    public var runnerPid: Int32?
    /// How many times a runner died or was killed and a new one was started.
    public var restarts: Int
    /// Why the last runner died, with its time (ISO 8601).
    public var lastCrash: String?
    public var lastCrashAt: String?
    /// How many times the provider was reloaded.
    public var reloads: Int
    /// How many results came after the Host had answered their call at its deadline (see ``LateAnswer``).
    public var lateAnswers: Int

    public init(
        isolation: ProviderIsolation, runnerPid: Int32? = nil, restarts: Int = 0, lastCrash: String? = nil, lastCrashAt: String? = nil,
        reloads: Int = 0, lateAnswers: Int = 0
    ) {
        self.lateAnswers = lateAnswers
        self.isolation = isolation
        self.runnerPid = runnerPid
        self.restarts = restarts
        self.lastCrash = lastCrash
        self.lastCrashAt = lastCrashAt
        self.reloads = reloads
    }

    enum CodingKeys: String, CodingKey {
        case isolation
        case runnerPid = "runner_pid"
        case restarts
        case lastCrash = "last_crash"
        case lastCrashAt = "last_crash_at"
        case reloads
        case lateAnswers = "late_answers"
    }
}

/// One way of running a provider's verbs: in this process, or in a runner process. ``ProviderInstance`` holds one
/// and swaps it on reload; nothing else can tell which it is.
protocol ProviderBackend: AnyObject, Sendable {
    var identity: ProviderIdentity { get }
    var runtime: ProviderRuntimeStatus { get }
    /// The most recent results that came after the Host answered their call at its deadline.
    var recentLateAnswers: [LateAnswer] { get }
    /// Answers the response bytes (unvalidated JSON) or the provider's (or the Host's) error.
    func call(_ verb: Verb, request: [UInt8], deadline: UInt64, timeout: Duration) async throws(ProviderCallError) -> [UInt8]
    /// Waits for in-flight calls, then releases the backend. Safe to call more than once.
    func shutdown() async
}
