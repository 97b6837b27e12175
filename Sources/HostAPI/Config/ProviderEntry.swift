import HostDispatch
import ProviderWire
import Yams

/// One entry of the Host file's `providers:` list: which library, its options, and where and how it runs. A key left
/// out keeps the default of ``ProviderSpec``.
struct ProviderEntry: ConfigurationSection {
    enum Keys: String, CodingKey, CaseIterable {
        case name
        case library
        case options
        case threads
        case timeoutSeconds = "timeout_seconds"
        case isolation
        case environment
        case limits
        case loadTimeoutMs = "load_timeout_ms"
        case createTimeoutMs = "create_timeout_ms"
        case killGraceMs = "kill_grace_ms"
        case restartBackoffMs = "restart_backoff_ms"
        case maxRestartBackoffMs = "max_restart_backoff_ms"
        case runner
    }

    /// `environment: {pass: [NAME, PREFIX*], set: {NAME: value}}`: what the runner gets beyond nothing.
    struct Environment: ConfigurationSection {
        enum Keys: String, CodingKey, CaseIterable {
            case pass
            case set
        }

        static var expected: String { "a mapping with pass (a list of names) and set (a mapping of names to values)" }

        var pass: [String]?
        var set: [String: EnvironmentValue]?

        init(from decoder: any Decoder) throws {
            let section = try decoder.section(Keys.self)
            pass = try section.optional(.pass)
            set = try section.optional(.set)
        }
    }

    /// `limits: {address_space_mb, open_files, cpu_seconds}`: the runner's rlimits (0 = the Host's own).
    struct Limits: ConfigurationSection {
        enum Keys: String, CodingKey, CaseIterable {
            case addressSpaceMB = "address_space_mb"
            case openFiles = "open_files"
            case cpuSeconds = "cpu_seconds"
        }

        static var expected: String { "a mapping with address_space_mb, open_files, cpu_seconds" }

        var addressSpaceMB: Int?
        var openFiles: Int?
        var cpuSeconds: Int?

        init(from decoder: any Decoder) throws {
            let section = try decoder.section(Keys.self)
            addressSpaceMB = try section.optional(.addressSpaceMB, atLeast: 0)
            openFiles = try section.optional(.openFiles, atLeast: 0)
            cpuSeconds = try section.optional(.cpuSeconds, atLeast: 0)
        }
    }

    var name: String
    var library: String
    var options: JSONValue?
    var threads: Int?
    var timeoutSeconds: Int?
    var isolation: ProviderSpec.Isolation?
    var environment: Environment?
    var limits: Limits?
    var loadTimeoutMs: Int?
    var createTimeoutMs: Int?
    var killGraceMs: Int?
    var restartBackoffMs: Int?
    var maxRestartBackoffMs: Int?
    var runner: String?

    init(from decoder: any Decoder) throws {
        let section = try decoder.section(Keys.self)
        name = try section.required(.name)
        library = try section.required(.library)
        options = try section.optional(.options)
        threads = try section.optional(.threads, atLeast: 1)
        timeoutSeconds = try section.optional(.timeoutSeconds, atLeast: 1)
        isolation = try section.optional(.isolation)
        environment = try section.optional(.environment)
        limits = try section.optional(.limits)
        loadTimeoutMs = try section.optional(.loadTimeoutMs, atLeast: 1)
        createTimeoutMs = try section.optional(.createTimeoutMs, atLeast: 1)
        killGraceMs = try section.optional(.killGraceMs, atLeast: 0)
        restartBackoffMs = try section.optional(.restartBackoffMs, atLeast: 1)
        maxRestartBackoffMs = try section.optional(.maxRestartBackoffMs, atLeast: 1)
        runner = try section.optional(.runner)
    }

    /// The provider the Host loads: what the entry sets, ``ProviderSpec``'s defaults for the rest.
    var spec: ProviderSpec {
        var spec = ProviderSpec(name: name, library: library, options: options ?? .object([:]))
        if let threads { spec.threads = threads }
        if let timeoutSeconds { spec.timeoutSeconds = timeoutSeconds }
        if let isolation { spec.isolation = isolation }
        if let pass = environment?.pass { spec.passEnvironment = pass }
        if let set = environment?.set { spec.setEnvironment = set.mapValues(\.text) }
        if let addressSpaceMB = limits?.addressSpaceMB { spec.addressSpaceMB = addressSpaceMB }
        if let openFiles = limits?.openFiles { spec.openFiles = openFiles }
        if let cpuSeconds = limits?.cpuSeconds { spec.cpuSeconds = cpuSeconds }
        if let loadTimeoutMs { spec.loadTimeoutMs = loadTimeoutMs }
        if let createTimeoutMs { spec.createTimeoutMs = createTimeoutMs }
        if let killGraceMs { spec.killGraceMs = killGraceMs }
        if let restartBackoffMs { spec.restartBackoffMs = restartBackoffMs }
        if let maxRestartBackoffMs { spec.maxRestartBackoffMs = maxRestartBackoffMs }
        if let runner { spec.runnerPath = runner }
        return spec
    }
}

/// A value of `environment.set`: a string, or a whole number or true/false written as one (`LOG_LEVEL: info`,
/// `WORKERS: 4`, `DEBUG: true`), which the runner sees as text.
struct EnvironmentValue: ConfigurationValue, Hashable {
    var text: String

    static var expected: String { "a string, a whole number or true/false" }
    static var expectedPlural: String { "strings" }

    static func decodeStrictly(from decoder: any Decoder) throws -> EnvironmentValue {
        switch decoder.scalarTag {
        case .int?: return EnvironmentValue(text: String(try Int.decodeStrictly(from: decoder)))
        case .bool?: return EnvironmentValue(text: String(try Bool.decodeStrictly(from: decoder)))
        default: return EnvironmentValue(text: try String.decodeStrictly(from: decoder))
        }
    }
}

extension ProviderSpec.Isolation: ConfigurationChoice {}
