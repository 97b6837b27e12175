/// Intervals and thresholds of the reconciliation loops (the Host file's `sweepers:` block, see ``SweepersSection``).
public struct SweeperSettings: Sendable {
    /// Run the loops at all (tests of other behaviour may turn them off).
    public var enabled = true
    /// Tick of every loop, milliseconds.
    public var intervalMs = 15_000
    /// `PROVISION_TIMEOUT_SECONDS`: overrides every per-runtime value.
    public var provisionTimeoutOverride: Int?
    /// Per-runtime provisioning timeouts, seconds.
    public var runtimeProvisionTimeouts: [String: Int] = [:]
    /// The default provisioning timeout: 10 minutes.
    public var defaultProvisionTimeoutSeconds = 600
    /// An external workspace whose last heartbeat is older than this goes to `awaiting_agent`.
    public var remoteStaleAfterSeconds = 90
    /// A resource without a row must be at least this old before the reaper touches it.
    public var orphanGraceSeconds = 300
    /// Report orphans without stopping or removing anything.
    public var orphanDryRun = false
    /// Restart a workspace the health sweep finds offline (its instance died), instead of leaving it offline.
    public var restartOnOffline = false

    public init() {}

    /// Timeout resolution: global override → per-runtime value → default.
    public func provisionTimeout(runtime: String) -> Int {
        provisionTimeoutOverride ?? runtimeProvisionTimeouts[runtime] ?? defaultProvisionTimeoutSeconds
    }
}
