import Foundation
import HostDispatch
import ProviderWire
import Yams

/// The Host's configuration: a YAML (or JSON) file, then environment overrides with Molecule's names
/// (`PORT`, `DATABASE_URL`, `ADMIN_TOKEN`, `MOLECULE_ENV`, `PLATFORM_URL`) so existing deploy scripts keep working.
public struct HostConfiguration: Sendable {
    /// `development` allows admin routes without `ADMIN_TOKEN`; anything else is production: nothing fails open.
    public enum Environment: String, Sendable {
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
    public var providers: [ProviderSpec] = []
    public var defaultProvider: String?
    public var allowedProviders: [String]?
    /// How often coalesced heartbeats are written, milliseconds.
    public var heartbeatFlushMs: Int = 5
    /// Largest JSON request body, bytes (413 beyond).
    public var maxBodyBytes: Int = 1 << 20
    /// Largest file or plugin upload, bytes (413 beyond).
    public var maxUploadBytes: Int = 48 << 20
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

    /// A configuration problem, naming the key.
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Loads `path` (if given), applies the environment, and fills defaults (the Process provider next to the binary).
    public static func load(path: String?, environment: [String: String], executableDirectory: String) throws -> HostConfiguration {
        var configuration = HostConfiguration()
        if let path {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw Problem("cannot read configuration file \(path)") }
            try configuration.apply(yaml: text, source: path)
        }
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

    mutating func apply(yaml text: String, source: String) throws {
        guard let root = try Yams.load(yaml: text) as? [String: Any] else { throw Problem("\(source) must be a mapping") }
        for (key, value) in root {
            switch key {
            case "listen":
                guard let text = value as? String, let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
                    throw Problem("\(source): listen must be HOST:PORT")
                }
                host = String(text[..<colon])
                self.port = port
            case "database_url": databaseURL = value as? String
            case "admin_token": adminToken = value as? String
            case "environment":
                guard let text = value as? String, let parsed = Environment(rawValue: text) else {
                    throw Problem("\(source): environment must be development or production")
                }
                environment = parsed
            case "platform_url": platformURL = value as? String
            case "state_dir": stateDirectory = (value as? String) ?? stateDirectory
            case "default_provider": defaultProvider = value as? String
            case "allowed_providers": allowedProviders = value as? [String]
            case "heartbeat_flush_ms": heartbeatFlushMs = (value as? Int) ?? heartbeatFlushMs
            case "max_body_bytes": maxBodyBytes = (value as? Int) ?? maxBodyBytes
            case "max_upload_bytes": maxUploadBytes = (value as? Int) ?? maxUploadBytes
            case "enable_test_tokens": enableTestTokens = value as? Bool
            case "database_pool_size": databasePoolSize = (value as? Int) ?? databasePoolSize
            case "restart_stop_attempts": restartStopAttempts = (value as? Int) ?? restartStopAttempts
            case "restart_backoff_ms": restartBackoffMs = (value as? Int) ?? restartBackoffMs
            case "max_provision_attempts":
                guard let count = value as? Int, count >= 1 else { throw Problem("\(source): max_provision_attempts must be a whole number >= 1") }
                maxProvisionAttempts = count
            case "sweepers":
                guard let map = value as? [String: Any] else { throw Problem("\(source): sweepers must be a mapping") }
                try sweepers.apply(map, source: source)
            case "providers":
                guard let list = value as? [[String: Any]] else { throw Problem("\(source): providers must be a list of mappings") }
                providers = try list.enumerated().map { index, entry in try Self.provider(entry, at: "\(source): providers[\(index)]") }
            default:
                throw Problem("\(source): unknown key \"\(key)\"")
            }
        }
    }

    /// One `providers:` entry. Every key is known and of the right type, or the error names it.
    static func provider(_ entry: [String: Any], at place: String) throws -> ProviderSpec {
        let known: Set = [
            "name", "library", "options", "threads", "timeout_seconds", "isolation", "environment", "limits", "load_timeout_ms",
            "create_timeout_ms", "kill_grace_ms", "restart_backoff_ms", "max_restart_backoff_ms", "runner",
        ]
        if let unknown = entry.keys.sorted().first(where: { !known.contains($0) }) {
            throw Problem("\(place): unknown key \"\(unknown)\" (known: \(known.sorted().joined(separator: ", ")))")
        }
        func integer(_ key: String, _ map: [String: Any] = entry, at: String = place, minimum: Int = 0) throws -> Int? {
            guard let value = map[key] else { return nil }
            guard let number = value as? Int, number >= minimum else { throw Problem("\(at).\(key) must be a whole number >= \(minimum)") }
            return number
        }
        guard let name = entry["name"] as? String, let library = entry["library"] as? String else {
            throw Problem("\(place): every provider needs name and library (strings)")
        }
        var spec = ProviderSpec(name: name, library: library, options: entry["options"].flatMap(Self.json) ?? .object([:]))
        spec.threads = try integer("threads", minimum: 1) ?? spec.threads
        spec.timeoutSeconds = try integer("timeout_seconds", minimum: 1) ?? spec.timeoutSeconds
        if let value = entry["isolation"] {
            guard let text = value as? String, let isolation = ProviderSpec.Isolation(rawValue: text) else {
                throw Problem("\(place).isolation must be process or in-process")
            }
            spec.isolation = isolation
        }
        if let value = entry["environment"] {
            guard let map = value as? [String: Any], Set(map.keys).isSubset(of: ["pass", "set"]) else {
                throw Problem("\(place).environment must be a mapping with pass (a list of names) and set (a mapping)")
            }
            if let pass = map["pass"] {
                guard let names = pass as? [String] else { throw Problem("\(place).environment.pass must be a list of variable names") }
                spec.passEnvironment = names
            }
            if let set = map["set"] {
                guard let values = set as? [String: Any] else { throw Problem("\(place).environment.set must be a mapping of names to values") }
                spec.setEnvironment = try values.mapValues { value in
                    switch value {
                    case let text as String: return text
                    case let number as Int: return String(number)
                    case let flag as Bool: return String(flag)
                    default: throw Problem("\(place).environment.set values must be strings")
                    }
                }
            }
        }
        if let value = entry["limits"] {
            guard let map = value as? [String: Any], Set(map.keys).isSubset(of: ["address_space_mb", "open_files", "cpu_seconds"]) else {
                throw Problem("\(place).limits must be a mapping with address_space_mb, open_files, cpu_seconds")
            }
            spec.addressSpaceMB = try integer("address_space_mb", map, at: place + ".limits") ?? spec.addressSpaceMB
            spec.openFiles = try integer("open_files", map, at: place + ".limits") ?? spec.openFiles
            spec.cpuSeconds = try integer("cpu_seconds", map, at: place + ".limits") ?? spec.cpuSeconds
        }
        spec.loadTimeoutMs = try integer("load_timeout_ms", minimum: 1) ?? spec.loadTimeoutMs
        spec.createTimeoutMs = try integer("create_timeout_ms", minimum: 1) ?? spec.createTimeoutMs
        spec.killGraceMs = try integer("kill_grace_ms") ?? spec.killGraceMs
        spec.restartBackoffMs = try integer("restart_backoff_ms", minimum: 1) ?? spec.restartBackoffMs
        spec.maxRestartBackoffMs = try integer("max_restart_backoff_ms", minimum: 1) ?? spec.maxRestartBackoffMs
        if let value = entry["runner"] {
            guard let path = value as? String else { throw Problem("\(place).runner must be the runner executable's path") }
            spec.runnerPath = path
        }
        return spec
    }

    mutating func apply(environment: [String: String]) throws {
        if let port = environment["PORT"] {
            guard let value = Int(port), (0...65535).contains(value) else { throw Problem("PORT=\(port) is not a port number") }
            self.port = value
        }
        if let host = environment["LISTEN_HOST"] { self.host = host }
        if let url = environment["DATABASE_URL"], !url.isEmpty { databaseURL = url }
        if let token = environment["ADMIN_TOKEN"], !token.isEmpty { adminToken = token }
        if let env = environment["MOLECULE_ENV"] {
            switch env {
            case "development", "dev": self.environment = .development
            case "production", "prod": self.environment = .production
            default: throw Problem("MOLECULE_ENV=\(env) must be development or production")
            }
        }
        if let url = environment["PLATFORM_URL"], !url.isEmpty { platformURL = url }
        if let flag = environment["MOLECULE_ENABLE_TEST_TOKENS"] { enableTestTokens = flag == "1" || flag == "true" }
        if let directory = environment["MOLECULE_STATE_DIR"], !directory.isEmpty { stateDirectory = directory }
        if let seconds = environment["PROVISION_TIMEOUT_SECONDS"] {
            guard let value = Int(seconds), value > 0 else { throw Problem("PROVISION_TIMEOUT_SECONDS=\(seconds) must be a positive number of seconds") }
            sweepers.provisionTimeoutOverride = value
        }
        if let seconds = environment["REMOTE_LIVENESS_STALE_AFTER"] {
            guard let value = Int(seconds), value > 0 else { throw Problem("REMOTE_LIVENESS_STALE_AFTER=\(seconds) must be a positive number of seconds") }
            sweepers.remoteStaleAfterSeconds = value
        }
    }

    static func json(_ any: Any) -> JSONValue? {
        switch any {
        case let value as Bool: return .bool(value)
        case let value as Int: return .number(Double(value))
        case let value as Double: return .number(value)
        case let value as String: return .string(value)
        case let value as [Any]: return .array(value.compactMap(json))
        case let value as [String: Any]: return .object(value.compactMapValues(json))
        default: return nil
        }
    }
}
