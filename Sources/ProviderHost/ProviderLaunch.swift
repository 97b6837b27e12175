import ProviderWire

/// Everything needed to start one provider: the library, its configuration, where it runs and its bounds.
public struct ProviderLaunch: Sendable, Hashable {
    /// The provider `.so`.
    public var path: String
    /// Passed to the provider's `create`.
    public var configuration: JSONValue
    public var isolation: ProviderIsolation
    /// Worker threads for this provider's verbs.
    public var threads: Int
    /// Default per-verb timeout.
    public var defaultTimeout: Duration
    /// Bound on loading (library constructors, negotiate) and on `create`.
    public var loadTimeout: Duration
    public var createTimeout: Duration
    /// How the runner process is started and supervised (process isolation only).
    public var runner: RunnerOptions

    public init(
        path: String, configuration: JSONValue = .object([:]), isolation: ProviderIsolation = .process, threads: Int = 16,
        defaultTimeout: Duration = .seconds(120), loadTimeout: Duration = .seconds(10), createTimeout: Duration = .seconds(30),
        runner: RunnerOptions = RunnerOptions()
    ) {
        self.path = path
        self.configuration = configuration
        self.isolation = isolation
        self.threads = threads
        self.defaultTimeout = defaultTimeout
        self.loadTimeout = loadTimeout
        self.createTimeout = createTimeout
        self.runner = runner
    }
}

/// How a provider's runner process is started and supervised.
public struct RunnerOptions: Sendable, Hashable {
    /// The runner executable; nil = `molecule-provider-runner` next to the running executable (or
    /// `$MOLECULE_PROVIDER_RUNNER`).
    public var executable: String?
    /// The runner's whole environment is these variables: the Host's values of `pass` (a trailing `*` matches a
    /// prefix) plus `set`. Nothing else of the Host's environment reaches a provider.
    public var passEnvironment: [String]
    public var setEnvironment: [String: String]
    /// Resource limits of the runner process (0 = the Host's own limit).
    public var addressSpaceBytes: UInt64
    public var openFiles: UInt64
    public var cpuSeconds: UInt64
    /// How long past a verb's deadline the provider may take to return before its runner is killed.
    public var killGrace: Duration
    /// The first restart delay after a runner died, doubling up to `maxRestartBackoff`; reset once a runner has
    /// served `stableAfter`.
    public var restartBackoff: Duration
    public var maxRestartBackoff: Duration
    public var stableAfter: Duration

    /// The variables every runner gets from the Host by default: nothing secret, what a process needs to run.
    public static let basicEnvironment = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER"]

    public init(
        executable: String? = nil, passEnvironment: [String] = RunnerOptions.basicEnvironment, setEnvironment: [String: String] = [:],
        addressSpaceBytes: UInt64 = 16 << 30, openFiles: UInt64 = 4096, cpuSeconds: UInt64 = 0, killGrace: Duration = .seconds(2),
        restartBackoff: Duration = .milliseconds(100), maxRestartBackoff: Duration = .seconds(30), stableAfter: Duration = .seconds(30)
    ) {
        self.executable = executable
        self.passEnvironment = passEnvironment
        self.setEnvironment = setEnvironment
        self.addressSpaceBytes = addressSpaceBytes
        self.openFiles = openFiles
        self.cpuSeconds = cpuSeconds
        self.killGrace = killGrace
        self.restartBackoff = restartBackoff
        self.maxRestartBackoff = maxRestartBackoff
        self.stableAfter = stableAfter
    }
}

/// Why a provider could not be started or reloaded.
public enum ProviderStartError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The loader (here or in the runner) refused the library.
    case load(ProviderLoadError)
    /// The library loaded but `create` refused the configuration (or did not return in time).
    case create(path: String, ProviderCallError)
    /// A reload found a library whose manifest names another provider.
    case nameChanged(path: String, expected: String, found: String)
    /// Only instances started from a ``ProviderLaunch`` can be reloaded.
    case notReloadable(name: String)

    public var description: String {
        switch self {
        case .load(let error): error.description
        case .create(let path, let error): "provider \(path): refused: create failed: \(error.status.name): \(error.message)"
        case .nameChanged(let path, let expected, let found):
            "provider \(path): refused: its manifest names \"\(found)\", not the provider \"\(expected)\" being reloaded"
        case .notReloadable(let name): "provider \(name) was not started from a launch description and cannot be reloaded"
        }
    }
}
