import ProviderHost
import ProviderWire

/// One provider the Host loads: a name, the library, the options passed to its `create`, and where and how it runs.
public struct ProviderSpec: Sendable, Hashable {
    /// Where the provider's code runs (see ``ProviderIsolation``): `process` (the default) or `in-process`.
    public enum Isolation: String, Sendable, Hashable, CaseIterable {
        case process
        case inProcess = "in-process"
    }

    /// The name workspaces use (must equal the library's manifest name).
    public var name: String
    public var library: String
    public var options: JSONValue
    /// Worker threads for this provider's verbs.
    public var threads: Int
    /// Default per-verb timeout.
    public var timeoutSeconds: Int
    public var isolation: Isolation
    /// The runner's environment: the Host's values of these names (a trailing `*` matches a prefix) …
    public var passEnvironment: [String]
    /// … plus these.
    public var setEnvironment: [String: String]
    /// Runner resource limits (0 = the Host's own).
    public var addressSpaceMB: Int
    public var openFiles: Int
    public var cpuSeconds: Int
    /// Bounds on loading (constructors, negotiate), on `create`, and how long past a verb's deadline the runner is
    /// given before it is killed.
    public var loadTimeoutMs: Int
    public var createTimeoutMs: Int
    public var killGraceMs: Int
    /// First runner restart delay after a crash (doubling, capped at `maxRestartBackoffMs`).
    public var restartBackoffMs: Int
    public var maxRestartBackoffMs: Int
    /// The runner executable (default: `molecule-provider-runner` next to the Host).
    public var runnerPath: String?

    public init(
        name: String, library: String, options: JSONValue = .object([:]), threads: Int = 16, timeoutSeconds: Int = 120,
        isolation: Isolation = .process, passEnvironment: [String] = ProviderSpec.basicEnvironment, setEnvironment: [String: String] = [:],
        addressSpaceMB: Int = 16 << 10, openFiles: Int = 4096, cpuSeconds: Int = 0, loadTimeoutMs: Int = 10_000, createTimeoutMs: Int = 30_000,
        killGraceMs: Int = 2000, restartBackoffMs: Int = 100, maxRestartBackoffMs: Int = 30_000, runnerPath: String? = nil
    ) {
        self.name = name
        self.library = library
        self.options = options
        self.threads = threads
        self.timeoutSeconds = timeoutSeconds
        self.isolation = isolation
        self.passEnvironment = passEnvironment
        self.setEnvironment = setEnvironment
        self.addressSpaceMB = addressSpaceMB
        self.openFiles = openFiles
        self.cpuSeconds = cpuSeconds
        self.loadTimeoutMs = loadTimeoutMs
        self.createTimeoutMs = createTimeoutMs
        self.killGraceMs = killGraceMs
        self.restartBackoffMs = restartBackoffMs
        self.maxRestartBackoffMs = maxRestartBackoffMs
        self.runnerPath = runnerPath
    }

    /// What every runner gets from the Host's environment unless the configuration says otherwise: nothing secret.
    public static let basicEnvironment = RunnerOptions.basicEnvironment

    var launch: ProviderLaunch {
        ProviderLaunch(
            path: library, configuration: options, isolation: isolation == .process ? .process : .inProcess, threads: threads,
            defaultTimeout: .seconds(timeoutSeconds), loadTimeout: .milliseconds(loadTimeoutMs), createTimeout: .milliseconds(createTimeoutMs),
            runner: RunnerOptions(
                executable: runnerPath, passEnvironment: passEnvironment, setEnvironment: setEnvironment,
                addressSpaceBytes: UInt64(max(0, addressSpaceMB)) << 20, openFiles: UInt64(max(0, openFiles)), cpuSeconds: UInt64(max(0, cpuSeconds)),
                killGrace: .milliseconds(killGraceMs), restartBackoff: .milliseconds(restartBackoffMs),
                maxRestartBackoff: .milliseconds(maxRestartBackoffMs)
            )
        )
    }
}

/// What `/admin/providers` shows about a loaded provider.
public struct ProviderSummary: Sendable, Codable, Hashable {
    public var name: String
    public var version: String
    public var library: String
    public var abi: UInt32
    public var verbs: [String]
    public var manifest: ProviderManifest
    public var manifestNote: Bool
    /// `process` or `in-process`.
    public var isolation: String
    /// The runner's pid while one runs.
    public var runnerPid: Int32?
    /// Runner deaths followed by a restart, and the last one's reason and time.
    public var restarts: Int
    public var lastCrash: String?
    public var lastCrashAt: String?
    public var reloads: Int

    enum CodingKeys: String, CodingKey {
        case name, version, library, abi, verbs, manifest, isolation, restarts, reloads
        case manifestNote = "manifest_note"
        case runnerPid = "runner_pid"
        case lastCrash = "last_crash"
        case lastCrashAt = "last_crash_at"
    }

    init(_ instance: ProviderInstance, name: String) {
        let identity = instance.identity
        let runtime = instance.runtime
        self.name = name
        self.version = identity.manifest.version
        self.library = identity.path
        self.abi = identity.abiVersion
        self.verbs = identity.supportedVerbs.map(\.wireName)
        self.manifest = identity.manifest
        self.manifestNote = identity.hasManifestNote
        self.isolation = runtime.isolation.rawValue
        self.runnerPid = runtime.runnerPid
        self.restarts = runtime.restarts
        self.lastCrash = runtime.lastCrash
        self.lastCrashAt = runtime.lastCrashAt
        self.reloads = runtime.reloads
    }
}
