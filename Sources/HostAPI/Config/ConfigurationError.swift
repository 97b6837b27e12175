/// Why the Host's configuration was refused. Every case names where (the file and the key path, such as
/// `providers[1].limits.open_files`, or the environment variable) and its description is one actionable line.
public enum ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file could not be read.
    case unreadable(file: String, reason: String)
    /// The file is not YAML (or JSON) at all.
    case malformed(file: String, reason: String)
    /// A key the Host does not know, with the keys it knows at that place.
    case unknownKey(file: String, path: String, known: [String])
    /// A key given more than once in one mapping.
    case duplicateKey(file: String, path: String)
    /// A key that must be present is not.
    case missingKey(file: String, path: String, expected: String)
    /// A value of the wrong type: `expected` says what fits (`a whole number`, `a list of strings`, `one of process,
    /// in-process`).
    case wrongType(file: String, path: String, expected: String)
    /// A value of the right type outside what the key allows.
    case invalidValue(file: String, path: String, reason: String)
    /// An environment variable that overrides the file has a value the Host cannot use.
    case invalidEnvironment(variable: String, value: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            return "cannot read configuration file \(file): \(reason)"
        case .malformed(let file, let reason):
            return "\(file): not valid YAML or JSON: \(reason)"
        case .unknownKey(let file, let path, let known):
            return "\(file): unknown key \(path) (known here: \(known.joined(separator: ", ")))"
        case .duplicateKey(let file, let path):
            return "\(file): \(path) is given more than once"
        case .missingKey(let file, let path, let expected):
            return "\(file): \(path) is required (expected \(expected))"
        case .wrongType(let file, let path, let expected):
            return "\(file): \(path.isEmpty ? "the top level" : path): expected \(expected)"
        case .invalidValue(let file, let path, let reason):
            return "\(file): \(path) \(reason)"
        case .invalidEnvironment(let variable, let value, let reason):
            return "\(variable)=\(value) \(reason)"
        }
    }
}
