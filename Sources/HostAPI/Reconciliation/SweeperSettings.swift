/// Intervals and thresholds of the reconciliation loops.
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

    mutating func apply(_ map: [String: Any], source: String) throws {
        for (key, value) in map {
            switch key {
            case "enabled": enabled = (value as? Bool) ?? enabled
            case "interval_ms": intervalMs = (value as? Int) ?? intervalMs
            case "provision_timeout_seconds": defaultProvisionTimeoutSeconds = (value as? Int) ?? defaultProvisionTimeoutSeconds
            case "runtime_provision_timeouts": runtimeProvisionTimeouts = (value as? [String: Int]) ?? runtimeProvisionTimeouts
            case "remote_stale_after_seconds": remoteStaleAfterSeconds = (value as? Int) ?? remoteStaleAfterSeconds
            case "orphan_grace_seconds": orphanGraceSeconds = (value as? Int) ?? orphanGraceSeconds
            case "orphan_dry_run": orphanDryRun = (value as? Bool) ?? orphanDryRun
            case "restart_on_offline": restartOnOffline = (value as? Bool) ?? restartOnOffline
            default: throw HostConfiguration.Problem("\(source): unknown sweepers key \"\(key)\"")
            }
        }
    }
}
