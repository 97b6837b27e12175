import Foundation
import ProviderWire
import Yams

/// What the contract suite needs to drive one provider: the provider configuration, optionally a configuration whose
/// backend is unreachable, and the workload to provision. Read from YAML or JSON; `${VAR}` and `${VAR:-default}`
/// are replaced from the environment so one file serves every machine.
public struct ContractConfiguration: Sendable {
    /// Passed to the provider's `create`. The suite adds a run-unique `owner` when it has none.
    public var config: JSONValue
    /// A configuration whose backend is down; the `unreachable.unavailable` case fails without one.
    public var unreachable: JSONValue?
    /// Fields merged into every provision request (`image`, `command`, `env`, `runtime`, `options`).
    public var workload: JSONValue
    /// Per-call timeout for verbs, milliseconds.
    public var verbTimeoutMs: Int
    /// What the provider's runner process gets of the environment beyond the basics (`environment: {pass, set}`).
    public var passEnvironment: [String] = []
    public var setEnvironment: [String: String] = [:]
    /// Where this machine reaches a workspace's files root, for the `files.links` and `plugins.links` cases to plant
    /// their links directly; without it they plant them through the workload (the request's command, run in the files
    /// root). `{workspace_id}` is the workspace's id and `{config.KEY.SUBKEY}` a string of the provider configuration in
    /// use, so the root follows a configuration that is swapped (`{config.roots.default}` for EC2's loopback roots).
    public var filesRoot: String?
    /// How many pause/resume and snapshot/restore cycles the durability cases run (`durability:`; 100 and 20).
    public var pauseCycles = 100
    public var snapshotCycles = 20

    public init(config: JSONValue = .object([:]), unreachable: JSONValue? = nil, workload: JSONValue = .object([:]), verbTimeoutMs: Int = 60_000) {
        self.config = config
        self.unreachable = unreachable
        self.workload = workload
        self.verbTimeoutMs = verbTimeoutMs
    }

    /// Loads a YAML or JSON file, expanding environment variables.
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ContractConfiguration {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ContractConfigurationError("cannot read contract configuration \(path)")
        }
        return try parse(text, source: path, environment: environment)
    }

    /// Parses YAML or JSON text.
    public static func parse(_ text: String, source: String, environment: [String: String]) throws -> ContractConfiguration {
        let expanded = try expand(text, environment: environment, source: source)
        let parsed: Any?
        do { parsed = try Yams.load(yaml: expanded) } catch {
            throw ContractConfigurationError("\(source) is not valid YAML or JSON: \(error)")
        }
        guard let root = parsed.flatMap(jsonValue), case .object(let object) = root else {
            throw ContractConfigurationError("\(source) must be a mapping with keys config, unreachable, workload")
        }
        let known: Set = ["config", "unreachable", "workload", "verb_timeout_ms", "environment", "files_root", "durability"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw ContractConfigurationError(
                "\(source): unknown key \"\(unknown)\" (expected config, unreachable, workload, verb_timeout_ms, environment, files_root)")
        }
        var configuration = ContractConfiguration()
        if let config = object["config"] {
            guard case .object = config else { throw ContractConfigurationError("\(source): \"config\" must be a mapping") }
            configuration.config = config
        }
        if let unreachable = object["unreachable"], unreachable != .null {
            guard case .object = unreachable else { throw ContractConfigurationError("\(source): \"unreachable\" must be a mapping") }
            configuration.unreachable = unreachable
        }
        if let workload = object["workload"] {
            guard case .object = workload else { throw ContractConfigurationError("\(source): \"workload\" must be a mapping") }
            configuration.workload = workload
        }
        if case .number(let ms)? = object["verb_timeout_ms"] { configuration.verbTimeoutMs = Int(ms) }
        if let durability = object["durability"] {
            guard case .object(let map) = durability, Set(map.keys).isSubset(of: ["pause_cycles", "snapshot_cycles"]),
                map.values.allSatisfy({ ($0.numberValue ?? 0) >= 1 })
            else {
                throw ContractConfigurationError("\(source): durability takes pause_cycles and snapshot_cycles, each a number of at least 1")
            }
            if let cycles = map["pause_cycles"]?.numberValue { configuration.pauseCycles = Int(cycles) }
            if let cycles = map["snapshot_cycles"]?.numberValue { configuration.snapshotCycles = Int(cycles) }
        }
        if let filesRoot = object["files_root"], filesRoot != .null {
            guard let template = filesRoot.stringValue, template.hasPrefix("/") || template.hasPrefix("{config.") else {
                throw ContractConfigurationError(
                    "\(source): \"files_root\" must be an absolute path, with {workspace_id} and {config.KEY} (a string of the configuration)")
            }
            configuration.filesRoot = template
        }
        if let environment = object["environment"] {
            guard case .object(let map) = environment, Set(map.keys).isSubset(of: ["pass", "set"]) else {
                throw ContractConfigurationError("\(source): \"environment\" must be a mapping with pass (a list of names) and set (a mapping)")
            }
            if case .array(let names)? = map["pass"] { configuration.passEnvironment = names.compactMap(\.stringValue) }
            if case .object(let values)? = map["set"] { configuration.setEnvironment = values.compactMapValues(\.stringValue) }
        }
        return configuration
    }

    static func expand(_ text: String, environment: [String: String], source: String) throws -> String {
        var output = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            output += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw ContractConfigurationError("\(source): unterminated ${ in \(rest[start.lowerBound...].prefix(40))")
            }
            let expression = rest[start.upperBound..<end]
            if let dash = expression.range(of: ":-") {
                let name = String(expression[..<dash.lowerBound])
                output += environment[name].flatMap { $0.isEmpty ? nil : $0 } ?? String(expression[dash.upperBound...])
            } else {
                let name = String(expression)
                guard let value = environment[name] else {
                    throw ContractConfigurationError("\(source) needs environment variable \(name) (or write ${\(name):-default})")
                }
                output += value
            }
            rest = rest[rest.index(after: end)...]
        }
        return output + rest
    }

    static func jsonValue(_ any: Any) -> JSONValue? {
        switch any {
        case is NSNull: return .null
        case let value as Bool: return .bool(value)
        case let value as Int: return .number(Double(value))
        case let value as Double: return .number(value)
        case let value as String: return .string(value)
        case let value as [Any]: return .array(value.compactMap(jsonValue))
        case let value as [String: Any]: return .object(value.compactMapValues(jsonValue))
        default: return nil
        }
    }
}

/// A contract configuration file that cannot be used.
public struct ContractConfigurationError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
