import Foundation
import ProviderWire
import Yams

// Strict decoding of configuration files with Yams' `YAMLDecoder`: every key is known, every value has its type, and
// every refusal is a ``ConfigurationError`` naming the file, the key path and what was expected.
//
// `YAMLDecoder` resolves no scalar types (every scalar decodes as a `String`), so the document is also composed once
// with the YAML core resolver and each scalar's type is recorded by position (``ScalarIndex``): `database_url: 5` is a
// whole number, not the string "5", while `database_url: "5"` is a string, as in JSON.
//
// Over 300 lines on purpose: the decoder, its containers and the scalar index are one mechanism, read together.

/// A value a configuration file can hold, decoded strictly, and how to say what fits when it does not.
protocol ConfigurationValue {
    /// What fits, for one value: `a whole number`, `a string`, `one of process, in-process`.
    static var expected: String { get }
    /// What fits, for many (in `a list of …`, `a mapping of names to …`).
    static var expectedPlural: String { get }
    /// Decodes this value from `decoder`'s node. A `DecodingError` means the node has the wrong type; it is reported
    /// at this node's path with ``expected`` (see ``Decoder/configurationValue(_:)``).
    static func decodeStrictly(from decoder: any Decoder) throws -> Self
}

/// A mapping whose keys are exactly `Keys`: an unknown key is an error naming it and the known ones.
protocol ConfigurationSection: ConfigurationValue, Decodable {
    associatedtype Keys: CodingKey & CaseIterable
}

extension ConfigurationSection {
    static var expected: String { "a mapping" }
    static var expectedPlural: String { "mappings" }
    static func decodeStrictly(from decoder: any Decoder) throws -> Self { try Self(from: decoder) }
}

/// A string that must be one of the cases.
protocol ConfigurationChoice: ConfigurationValue, RawRepresentable<String>, CaseIterable {}

extension ConfigurationChoice {
    static var expected: String { "one of " + allCases.map(\.rawValue).joined(separator: ", ") }
    static var expectedPlural: String { "values among " + allCases.map(\.rawValue).joined(separator: ", ") }
    static func decodeStrictly(from decoder: any Decoder) throws -> Self {
        guard let value = Self(rawValue: try String.decodeStrictly(from: decoder)) else { throw decoder.mismatch(Self.self) }
        return value
    }
}

// MARK: The decoding context

/// What the helpers need beside the decoder: the file to name in errors and the scalar types.
final class StrictDecodingContext {
    static let key = CodingUserInfoKey(rawValue: "molecule.configuration")!
    let file: String
    let scalars: ScalarIndex

    init(file: String, scalars: ScalarIndex) {
        self.file = file
        self.scalars = scalars
    }

    /// Decodes `T` from `text` (YAML, or JSON, which is YAML) with `YAMLDecoder`; every failure is a
    /// ``ConfigurationError`` naming `file`.
    static func decode<T: ConfigurationValue>(_: T.Type, from text: String, file: String) throws(ConfigurationError) -> T {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { throw .malformed(file: file, reason: Self.reason(error)) }
        let scalars = try ScalarIndex(root, file: file)
        let context = StrictDecodingContext(file: file, scalars: scalars)
        do {
            return try YAMLDecoder().decode(Root<T>.self, from: text, userInfo: [key: context]).value
        } catch {
            // YAMLDecoder wraps what `init(from:)` throws in `DecodingError.dataCorrupted`.
            if case DecodingError.dataCorrupted(let corrupted) = error, let refusal = corrupted.underlyingError as? ConfigurationError {
                throw refusal
            }
            throw (error as? ConfigurationError) ?? .malformed(file: file, reason: Self.reason(error))
        }
    }

    /// One line from a Yams error: `line 3, column 7: mapping values are not allowed in this context`.
    static func reason(_ error: any Error) -> String {
        switch error {
        case YamlError.scanner(_, let problem, let mark, _), YamlError.parser(_, let problem, let mark, _),
            YamlError.composer(_, let problem, let mark, _):
            return "line \(mark.line), column \(mark.column): \(problem)"
        case DecodingError.dataCorrupted(let context):
            return context.underlyingError.map(reason) ?? context.debugDescription
        default:
            return String(describing: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
        }
    }
}

/// The top of the document, decoded strictly (a plain `Decodable` entry point for `YAMLDecoder`).
private struct Root<T: ConfigurationValue>: Decodable {
    let value: T
    init(from decoder: any Decoder) throws { value = try decoder.configurationValue(T.self) }
}

/// The YAML core type of every scalar in the document, by position, from `Yams.compose` (which resolves them as
/// `Yams.load` does). Composing also finds keys given twice in one mapping, which `YAMLDecoder` would silently
/// resolve to the first.
struct ScalarIndex {
    struct Position: Hashable {
        let line: Int
        let column: Int
    }

    private var tags: [Position: Tag.Name] = [:]

    init(_ root: Node?, file: String) throws(ConfigurationError) {
        if let root { try visit(root, path: "", file: file) }
    }

    /// The scalar's type at `mark`; nil if unknown (the caller then falls back to what `YAMLDecoder` constructs).
    func tag(at mark: Mark?) -> Tag.Name? {
        mark.flatMap { tags[Position(line: $0.line, column: $0.column)] }
    }

    private mutating func visit(_ node: Node, path: String, file: String) throws(ConfigurationError) {
        switch node {
        case .scalar(let scalar):
            guard let mark = scalar.mark else { return }
            let position = Position(line: mark.line, column: mark.column)
            // An empty (null) scalar is marked where the next token starts; it never hides a real one.
            let tag = Tag.Name(rawValue: node.tag.description)  // resolved as `Yams.load` resolves it
            if tag != .null || tags[position] == nil { tags[position] = tag }
        case .sequence(let sequence):
            for (index, element) in sequence.enumerated() { try visit(element, path: path.appending(index: index), file: file) }
        case .mapping(let mapping):
            var seen: Set<String> = []
            for (key, value) in mapping {
                if key.tag.description == Tag.Name.merge.rawValue {  // `<<: *defaults`
                    try visit(value, path: path, file: file)
                    continue
                }
                guard let name = key.string else { continue }
                let inner = path.appending(key: name)
                guard seen.insert(name).inserted else { throw .duplicateKey(file: file, path: inner) }
                try visit(value, path: inner, file: file)
            }
        }
    }
}

// MARK: Paths

extension String {
    /// `providers` + `limits` → `providers.limits`.
    func appending(key: String) -> String { isEmpty ? key : self + "." + key }
    /// `providers` + 1 → `providers[1]`.
    func appending(index: Int) -> String { self + "[\(index)]" }
}

extension [any CodingKey] {
    /// `providers[1].limits.open_files`.
    var configurationPath: String {
        reduce("") { path, key in key.intValue.map { path.appending(index: $0) } ?? path.appending(key: key.stringValue) }
    }
}

/// Any key (to list what a mapping holds), never an index.
struct AnyConfigurationKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

// MARK: Decoding helpers

extension Decoder {
    var strictContext: StrictDecodingContext? { userInfo[StrictDecodingContext.key] as? StrictDecodingContext }
    var configurationFile: String { strictContext?.file ?? "configuration" }
    var configurationPath: String { codingPath.configurationPath }
    /// The YAML type of this decoder's scalar, when known.
    var scalarTag: Tag.Name? { strictContext?.scalars.tag(at: mark) }

    /// `T` from this node; a wrong type anywhere in it that `T` does not report itself is reported here.
    func configurationValue<T: ConfigurationValue>(_: T.Type = T.self) throws -> T {
        do {
            return try T.decodeStrictly(from: self)
        } catch is DecodingError {
            throw ConfigurationError.wrongType(file: configurationFile, path: configurationPath, expected: T.expected)
        }
    }

    /// The error a ``ConfigurationValue`` throws when the node is not a `T` (reported by ``configurationValue(_:)``).
    func mismatch<T>(_: T.Type) -> DecodingError {
        .typeMismatch(T.self, .init(codingPath: codingPath, debugDescription: "not \(T.self)"))
    }

    /// This node as a mapping whose keys are all `Keys`.
    func section<Keys: CodingKey & CaseIterable>(_: Keys.Type) throws -> SectionReader<Keys> {
        let known = Keys.allCases.map(\.stringValue)
        let present = try container(keyedBy: AnyConfigurationKey.self).allKeys.map(\.stringValue)
        if let unknown = present.first(where: { !known.contains($0) }) {
            throw ConfigurationError.unknownKey(file: configurationFile, path: configurationPath.appending(key: unknown), known: known.sorted())
        }
        return SectionReader(container: try container(keyedBy: Keys.self), file: configurationFile)
    }
}

/// The keys of one mapping, read strictly.
struct SectionReader<Keys: CodingKey> {
    let container: KeyedDecodingContainer<Keys>
    let file: String

    func path(_ key: Keys) -> String { container.codingPath.configurationPath.appending(key: key.stringValue) }

    /// The value, or nil when the key is absent or null (the default applies).
    func optional<T: ConfigurationValue>(_ key: Keys, as _: T.Type = T.self) throws -> T? {
        guard container.contains(key), try !container.decodeNil(forKey: key) else { return nil }
        return try container.superDecoder(forKey: key).configurationValue(T.self)
    }

    func required<T: ConfigurationValue>(_ key: Keys, as _: T.Type = T.self) throws -> T {
        guard let value = try optional(key, as: T.self) else {
            throw ConfigurationError.missingKey(file: file, path: path(key), expected: T.expected)
        }
        return value
    }

    /// A whole number of at least `minimum`.
    func optional(_ key: Keys, atLeast minimum: Int) throws -> Int? {
        guard let value = try optional(key, as: Int.self) else { return nil }
        guard value >= minimum else {
            throw ConfigurationError.invalidValue(file: file, path: path(key), reason: "must be at least \(minimum) (got \(value))")
        }
        return value
    }
}

// MARK: Values

extension Int: ConfigurationValue {
    static var expected: String { "a whole number" }
    static var expectedPlural: String { "whole numbers" }
    static func decodeStrictly(from decoder: any Decoder) throws -> Int {
        // Yams constructs integers only from plain scalars: "5" (quoted) is a string.
        try decoder.singleValueContainer().decode(Int.self)
    }
}

extension String: ConfigurationValue {
    static var expected: String { "a string" }
    static var expectedPlural: String { "strings" }
    static func decodeStrictly(from decoder: any Decoder) throws -> String {
        let value = try decoder.singleValueContainer().decode(String.self)
        if let tag = decoder.scalarTag, [Tag.Name.int, .float, .bool, .null].contains(tag) { throw decoder.mismatch(String.self) }
        return value
    }
}

extension Bool: ConfigurationValue {
    static var expected: String { "true or false" }
    static var expectedPlural: String { "true or false values" }
    static func decodeStrictly(from decoder: any Decoder) throws -> Bool {
        let value = try decoder.singleValueContainer().decode(Bool.self)
        if let tag = decoder.scalarTag, tag != .bool { throw decoder.mismatch(Bool.self) }
        return value
    }
}

extension Array: ConfigurationValue where Element: ConfigurationValue {
    static var expected: String { "a list of \(Element.expectedPlural)" }
    static var expectedPlural: String { "lists of \(Element.expectedPlural)" }
    static func decodeStrictly(from decoder: any Decoder) throws -> [Element] {
        var container = try decoder.unkeyedContainer()
        var elements: [Element] = []
        while !container.isAtEnd { elements.append(try container.superDecoder().configurationValue(Element.self)) }
        return elements
    }
}

extension Dictionary: ConfigurationValue where Key == String, Value: ConfigurationValue {
    static var expected: String { "a mapping of names to \(Value.expectedPlural)" }
    static var expectedPlural: String { "mappings of names to \(Value.expectedPlural)" }
    static func decodeStrictly(from decoder: any Decoder) throws -> [String: Value] {
        let container = try decoder.container(keyedBy: AnyConfigurationKey.self)
        var values: [String: Value] = [:]
        for key in container.allKeys { values[key.stringValue] = try container.superDecoder(forKey: key).configurationValue(Value.self) }
        return values
    }
}

/// Free-form JSON (a provider's `options`): scalars keep their YAML types, as `Yams.load` gives them; nulls inside
/// are left out, as before.
extension JSONValue: ConfigurationValue {
    static var expected: String { "a JSON value" }
    static var expectedPlural: String { "JSON values" }
    static func decodeStrictly(from decoder: any Decoder) throws -> JSONValue {
        if let container = try? decoder.container(keyedBy: AnyConfigurationKey.self) {
            var object: [String: JSONValue] = [:]
            for key in container.allKeys {
                let value = try container.superDecoder(forKey: key).configurationValue(JSONValue.self)
                if value != .null { object[key.stringValue] = value }
            }
            return .object(object)
        }
        if var container = try? decoder.unkeyedContainer() {
            var array: [JSONValue] = []
            while !container.isAtEnd {
                let value = try container.superDecoder().configurationValue(JSONValue.self)
                if value != .null { array.append(value) }
            }
            return .array(array)
        }
        let scalar = try decoder.singleValueContainer()
        switch decoder.scalarTag {
        case .null?: return .null
        case .bool?: return .bool(try scalar.decode(Bool.self))
        case .int?: if let value = try? scalar.decode(Int.self) { return .number(Double(value)) }
        case .float?: if let value = try? scalar.decode(Double.self) { return .number(value) }
        case nil:
            if scalar.decodeNil() { return .null }
            if let value = try? scalar.decode(Int.self) { return .number(Double(value)) }
            if let value = try? scalar.decode(Double.self) { return .number(value) }
        default: break
        }
        return .string(try scalar.decode(String.self))
    }
}
