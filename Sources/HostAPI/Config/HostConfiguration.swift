import Foundation
import HostDispatch
import ProviderWire

/// The Host's configuration: a YAML (or JSON) file, then environment overrides with Molecule's names
/// (`PORT`, `DATABASE_URL`, `ADMIN_TOKEN`, `MOLECULE_ENV`, `PLATFORM_URL`) so existing deploy scripts keep working.
public struct HostConfiguration: Sendable {
    /// `development` allows admin routes without `ADMIN_TOKEN`; anything else is production: nothing fails open.
    public enum Environment: String, Sendable, CaseIterable {
        case development
        case production
    }

    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// libpq conninfo or URI; nil = start the embedded PostgreSQL.
    public var databaseURL: String?
    public var adminToken: String?
    public var environment: Environment = .production
    /// Where agents reach this Host; default `http://<host>:<port>`.
    public var platformURL: String?
    /// Working state (embedded database, Process provider state).
    public var stateDirectory: String = FileManager.default.currentDirectoryPath + "/.molecule"
    /// Where workspace templates live (one directory each; `template` in a create names one). Default
    /// `<state_dir>/templates`.
    public var templatesDir: String?
    public var templatesDirectory: String { templatesDir ?? stateDirectory + "/templates" }
    public var providers: [ProviderSpec] = []
    public var defaultProvider: String?
    public var allowedProviders: [String]?
    /// How often coalesced heartbeats are written, milliseconds.
    public var heartbeatFlushMs: Int = 5
    /// Largest JSON request body, bytes (413 beyond).
    public var maxBodyBytes: Int = 1 << 20
    /// Largest file or plugin upload, bytes (413 beyond; refused before reading when `Content-Length` says so).
    public var maxUploadBytes: Int = 32 << 20
    /// Largest registry body (register, heartbeat, update-card), bytes: agent cards are bounded to 64 KiB.
    public var maxRegistryBodyBytes: Int = 128 << 10
    /// Requests one client (a bearer token, or an address without one) may have in flight; 429 beyond.
    public var maxConcurrentRequestsPerClient: Int = 64
    /// Allow `GET /admin/workspaces/:id/test-token` (never in production unless set explicitly).
    public var enableTestTokens: Bool?
    public var databasePoolSize: Int = 8
    /// A restart's stop attempts before it logs LEAK-SUSPECT and provisions anyway, and the first backoff (doubling).
    public var restartStopAttempts: Int = 3
    public var restartBackoffMs: Int = 1000
    /// Provisions of one row that never got an answer (the Host or a runner died mid-call) before recovery marks it
    /// failed instead of driving it again.
    public var maxProvisionAttempts: Int = 3
    /// Reconciliation (see ``Reconciler``).
    public var sweepers = SweeperSettings()

    public init() {}

    public var resolvedPlatformURL: String { platformURL ?? "http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(port)" }
    public var testTokensEnabled: Bool { enableTestTokens ?? (environment == .development) }

    /// Loads `path` (if given), applies the environment, and fills defaults (the Process provider next to the binary).
    /// An unknown key, a value of the wrong type or out of range is refused with the file, the key path and what fits.
    public static func load(
        path: String?, environment: [String: String], executableDirectory: String
    ) throws(ConfigurationError)
        -> HostConfiguration
    {
        var configuration = HostConfiguration()
        if let path { try configuration.apply(yaml: try Self.read(path), source: path) }
        try configuration.apply(environment: environment)
        if configuration.providers.isEmpty {
            configuration.providers = [
                ProviderSpec(
                    name: "process", library: executableDirectory + "/libProviderProcess.so",
                    options: .object(["state_dir": .string(configuration.stateDirectory + "/process")])
                )
            ]
        }
        return configuration
    }

    static func read(_ path: String) throws(ConfigurationError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .unreadable(file: path, reason: "no such file") }
        guard !isDirectory.boolValue else { throw .unreadable(file: path, reason: "it is a directory") }
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(file: path, reason: "permission denied") }
        guard let text = String(data: data, encoding: .utf8) else { throw .unreadable(file: path, reason: "not UTF-8 text") }
        return text
    }

    /// Applies a YAML (or JSON) file's settings; `source` names the file in errors.
    mutating func apply(yaml text: String, source: String) throws(ConfigurationError) {
        try HostConfigurationFile.decode(text, file: source).apply(to: &self)
    }

    mutating func apply(environment: [String: String]) throws(ConfigurationError) {
        if let port = environment["PORT"] {
            guard let value = Int(port), (0...65535).contains(value) else {
                throw .invalidEnvironment(variable: "PORT", value: port, reason: "is not a port number (0-65535)")
            }
            self.port = value
        }
        if let host = environment["LISTEN_HOST"] { self.host = host }
        if let url = environment["DATABASE_URL"], !url.isEmpty { databaseURL = url }
        if let token = environment["ADMIN_TOKEN"], !token.isEmpty { adminToken = token }
        if let env = environment["MOLECULE_ENV"] {
            switch env {
            case "development", "dev": self.environment = .development
            case "production", "prod": self.environment = .production
            default: throw .invalidEnvironment(variable: "MOLECULE_ENV", value: env, reason: "must be development or production")
            }
        }
        if let url = environment["PLATFORM_URL"], !url.isEmpty { platformURL = url }
        if let flag = environment["MOLECULE_ENABLE_TEST_TOKENS"] { enableTestTokens = flag == "1" || flag == "true" }
        if let directory = environment["MOLECULE_STATE_DIR"], !directory.isEmpty { stateDirectory = directory }
        if let seconds = environment["PROVISION_TIMEOUT_SECONDS"] {
            guard let value = Int(seconds), value > 0 else {
                throw .invalidEnvironment(variable: "PROVISION_TIMEOUT_SECONDS", value: seconds, reason: "must be a positive number of seconds")
            }
            sweepers.provisionTimeoutOverride = value
        }
        if let seconds = environment["REMOTE_LIVENESS_STALE_AFTER"] {
            guard let value = Int(seconds), value > 0 else {
                throw .invalidEnvironment(variable: "REMOTE_LIVENESS_STALE_AFTER", value: seconds, reason: "must be a positive number of seconds")
            }
            sweepers.remoteStaleAfterSeconds = value
        }
    }
}
