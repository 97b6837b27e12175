/// Why ``WireSchema/derive(_:maxDepth:)`` could not derive a schema: a type's `init(from:)` threw on the placeholder
/// values, or a type nests itself without an optional or array in between.
public struct WireSchemaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The type whose `init(from:)` failed (module-qualified).
    public var typeName: String
    /// Where in the value it failed, as a JSON pointer (`/resources/0/kind`).
    public var path: String
    public var reason: String

    public var description: String { "cannot derive a JSON schema for \(typeName) at \(path): \(reason)" }
}

extension WireSchema {
    /// The schema of the JSON that `type`'s `init(from:)` accepts, recorded by running it against a decoder that
    /// answers every request with a placeholder (`"x"`, `1`, `true`, an enum's first case, one array element, one
    /// dictionary entry) and notes what was asked.
    ///
    /// Keys read with `decode` are required, keys read with `decodeIfPresent` optional and nullable. Beyond `maxDepth`
    /// nested values, optionals decode as `nil` and arrays and dictionaries as empty (their schema: any), so recursive
    /// types end; a type that nests itself without one of those throws.
    public static func derive(_ type: any Decodable.Type, maxDepth: Int = 16) throws(WireSchemaError) -> WireSchema {
        let root = SchemaNode()
        do {
            _ = try SchemaRecorder(node: root, codingPath: [], depth: 0, maxDepth: maxDepth).decode(type)
        } catch let error as WireSchemaError {
            throw error
        } catch {
            throw WireSchemaError(typeName: String(reflecting: type), path: "/", reason: "\(error)")
        }
        return root.build()
    }

    /// A JSON pointer (`/stages/0/duration_ms`, `/` for the root).
    static func pointer(_ components: [String]) -> String {
        components.isEmpty ? "/" : components.map { "/" + escape($0) }.joined()
    }

    /// `~` and `/` escaped as a JSON pointer's reference token.
    static func escape(_ key: String) -> String {
        guard key.contains(where: { $0 == "~" || $0 == "/" }) else { return key }
        return key.map { $0 == "~" ? "~0" : $0 == "/" ? "~1" : String($0) }.joined()
    }
}
