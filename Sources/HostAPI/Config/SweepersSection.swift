/// The `sweepers:` block of the Host's file: intervals and thresholds of the reconciliation loops
/// (``SweeperSettings``). A key left out keeps its default.
struct SweepersSection: ConfigurationSection {
    enum Keys: String, CodingKey, CaseIterable {
        case enabled
        case intervalMs = "interval_ms"
        case provisionTimeoutSeconds = "provision_timeout_seconds"
        case runtimeProvisionTimeouts = "runtime_provision_timeouts"
        case remoteStaleAfterSeconds = "remote_stale_after_seconds"
        case orphanGraceSeconds = "orphan_grace_seconds"
        case orphanDryRun = "orphan_dry_run"
        case restartOnOffline = "restart_on_offline"
    }

    var enabled: Bool?
    var intervalMs: Int?
    var provisionTimeoutSeconds: Int?
    var runtimeProvisionTimeouts: [String: Int]?
    var remoteStaleAfterSeconds: Int?
    var orphanGraceSeconds: Int?
    var orphanDryRun: Bool?
    var restartOnOffline: Bool?

    init(from decoder: any Decoder) throws {
        let section = try decoder.section(Keys.self)
        enabled = try section.optional(.enabled)
        intervalMs = try section.optional(.intervalMs, atLeast: 1)
        provisionTimeoutSeconds = try section.optional(.provisionTimeoutSeconds, atLeast: 1)
        runtimeProvisionTimeouts = try section.optional(.runtimeProvisionTimeouts)
        remoteStaleAfterSeconds = try section.optional(.remoteStaleAfterSeconds, atLeast: 1)
        orphanGraceSeconds = try section.optional(.orphanGraceSeconds, atLeast: 0)
        orphanDryRun = try section.optional(.orphanDryRun)
        restartOnOffline = try section.optional(.restartOnOffline)
    }

    /// Sets what the block sets; the rest keeps its value.
    func apply(to settings: inout SweeperSettings) {
        if let enabled { settings.enabled = enabled }
        if let intervalMs { settings.intervalMs = intervalMs }
        if let provisionTimeoutSeconds { settings.defaultProvisionTimeoutSeconds = provisionTimeoutSeconds }
        if let runtimeProvisionTimeouts { settings.runtimeProvisionTimeouts = runtimeProvisionTimeouts }
        if let remoteStaleAfterSeconds { settings.remoteStaleAfterSeconds = remoteStaleAfterSeconds }
        if let orphanGraceSeconds { settings.orphanGraceSeconds = orphanGraceSeconds }
        if let orphanDryRun { settings.orphanDryRun = orphanDryRun }
        if let restartOnOffline { settings.restartOnOffline = restartOnOffline }
    }
}
