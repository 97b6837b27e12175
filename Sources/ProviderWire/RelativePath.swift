/// A path inside a workspace's files root, validated so it can never leave that root.
///
/// Refused: empty paths (unless allowed), absolute paths, `..` components, NUL bytes, backslashes and over-long
/// paths. `.` components and repeated slashes are normalised away.
public struct RelativePath: Sendable, Hashable, CustomStringConvertible {
    /// The normalised components, none of them empty, `.` or `..`.
    public let components: [String]

    /// The normalised path (`a/b/c`), `""` for the root.
    public var string: String { components.joined(separator: "/") }
    public var description: String { string }
    public var isRoot: Bool { components.isEmpty }

    /// Validates `raw`. Throws INVALID_ARGUMENT naming the problem.
    public init(_ raw: String, allowRoot: Bool = false) throws(ProviderError) {
        if raw.utf8.count > 4096 { throw .invalidArgument("path is longer than 4096 bytes") }
        if raw.utf8.contains(0) { throw .invalidArgument("path contains a NUL byte") }
        if raw.hasPrefix("/") { throw .invalidArgument("path \"\(raw)\" is absolute; paths are relative to the workspace's files root") }
        if raw.contains("\\") { throw .invalidArgument("path \"\(raw)\" contains a backslash") }
        var parts: [String] = []
        for part in raw.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { throw .invalidArgument("path \"\(raw)\" contains \"..\"; paths may not leave the workspace's files root") }
            if part.utf8.count > 255 { throw .invalidArgument("path component is longer than 255 bytes") }
            parts.append(String(part))
        }
        if parts.isEmpty && !allowRoot { throw .invalidArgument("path is empty") }
        components = parts
    }

    /// A plugin name: one path component following ``Identifier``'s rule.
    public static func validatePluginName(_ name: String) throws(ProviderError) {
        try Identifier.validate(name, what: "plugin name")
    }
}
