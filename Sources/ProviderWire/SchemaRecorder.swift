import Foundation

/// One value position of the type being derived: what its `init(from:)` asked for so far.
final class SchemaNode {
    /// The key ``SchemaRecorder``'s dynamic-key containers list, standing for every member of a dictionary.
    static let dynamicKey = "x"

    var schema = WireSchema()
    /// Set by ``WireSchemaDescribing``: wins over everything recorded.
    var fixed: WireSchema?
    /// What a primitive decode answers here (an enum's first raw value).
    var placeholder: Any?
    var properties: [String: SchemaNode] = [:]
    var required: [String] = []
    var optional: Set<String> = []
    var items: SchemaNode?
    var additional: SchemaNode?
    /// Whether a container here listed ``dynamicKey`` in `allKeys` (a dictionary).
    var listedKeys = false

    /// The member `key`; `required` true for `decode`, false for `decodeIfPresent`/`contains`, nil to leave as is.
    func member(_ key: String, required isRequired: Bool?) -> SchemaNode {
        if listedKeys, key == Self.dynamicKey {
            let node = additional ?? SchemaNode()
            additional = node
            return node
        }
        if isRequired == true, !required.contains(key) { required.append(key) }
        if isRequired == false { optional.insert(key) }
        let node = properties[key] ?? SchemaNode()
        properties[key] = node
        return node
    }

    func build() -> WireSchema {
        guard var result = fixed else {
            var result = schema
            result.properties = properties.mapValues { $0.build() }
            result.required = required.filter { !optional.contains($0) }
            result.items = items?.build()
            if let additional { result.additionalProperties = .schema(additional.build()) }
            return result
        }
        result.nullable = result.nullable || schema.nullable
        return result
    }
}

/// The recording `Decoder` behind ``WireSchema/derive(_:maxDepth:)``: answers every request with a placeholder and
/// records it in its ``SchemaNode``.
struct SchemaRecorder: Decoder {
    let node: SchemaNode
    let codingPath: [any CodingKey]
    let depth: Int
    let maxDepth: Int
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// Past `maxDepth`: optionals are nil, arrays and dictionaries empty.
    var exhausted: Bool { depth >= maxDepth }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        node.schema.type = .object
        return KeyedDecodingContainer(RecordingKeyedContainer<Key>(recorder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        node.schema.type = .array
        return RecordingUnkeyedContainer(recorder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { RecordingSingleValueContainer(recorder: self) }

    /// The recorder of the value at `key` under this one.
    func child(_ node: SchemaNode, at key: any CodingKey) -> SchemaRecorder {
        SchemaRecorder(node: node, codingPath: codingPath + [key], depth: depth, maxDepth: maxDepth)
    }

    /// Records `T` into ``node`` and answers a placeholder of it.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let path = WireSchema.pointer(codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue })
        guard depth <= 2 * maxDepth else {
            throw WireSchemaError(
                typeName: String(reflecting: T.self), path: path,
                reason: "nested deeper than \(2 * maxDepth) levels (a type containing itself without an optional or array?)")
        }
        if let custom = T.self as? any WireSchemaDescribing.Type {
            node.fixed = custom.wireSchema
            if let value = custom.wireSchemaPlaceholder as? T { return value }
        }
        if let primitive = Self.primitives[ObjectIdentifier(T.self)], let value = node.placeholder as? T ?? primitive.value as? T {
            node.schema.type = primitive.type
            return value
        }
        let cases = Self.enumeration(T.self)
        if let cases { node.placeholder = cases.placeholder }
        let value: T
        do {
            value = try T(from: SchemaRecorder(node: node, codingPath: codingPath, depth: depth + 1, maxDepth: maxDepth))
        } catch let error as WireSchemaError {
            throw error
        } catch let error as DecodingError {
            let (at, text) = Self.describe(error)
            throw WireSchemaError(typeName: String(reflecting: T.self), path: at ?? path, reason: "init(from:) threw: \(text)")
        } catch {
            throw WireSchemaError(typeName: String(reflecting: T.self), path: path, reason: "init(from:) threw: \(error)")
        }
        if let cases, !cases.names.isEmpty, node.schema.type == .string { node.schema.enumValues = cases.names }
        return value
    }

    /// Schema type and placeholder of the types that decode from one JSON primitive (as `JSONDecoder` does them).
    private static let primitives: [ObjectIdentifier: (type: WireSchema.JSONType, value: any Sendable)] = {
        func entry<T: Sendable>(_ type: T.Type, _ kind: WireSchema.JSONType, _ value: T) -> (ObjectIdentifier, (WireSchema.JSONType, any Sendable)) {
            (ObjectIdentifier(type), (kind, value))
        }
        return Dictionary(uniqueKeysWithValues: [
            entry(String.self, .string, "x"), entry(Bool.self, .boolean, true),
            entry(Double.self, .number, 1), entry(Float.self, .number, 1), entry(Decimal.self, .number, 1),
            entry(Int.self, .integer, 1), entry(Int8.self, .integer, 1), entry(Int16.self, .integer, 1),
            entry(Int32.self, .integer, 1), entry(Int64.self, .integer, 1), entry(UInt.self, .integer, 1),
            entry(UInt8.self, .integer, 1), entry(UInt16.self, .integer, 1), entry(UInt32.self, .integer, 1),
            entry(UInt64.self, .integer, 1), entry(Data.self, .string, Data("x".utf8)),
            entry(URL.self, .string, URL(fileURLWithPath: "/x")),
        ])
    }()

    /// The string raw values of an enumeration and the raw value to decode (its first case), if `type` is one.
    private static func enumeration<T>(_ type: T.Type) -> (names: [String], placeholder: Any?)? {
        if let listed = type as? any WireSchemaEnumerable.Type { return (listed.schemaCases, listed.schemaCases.first) }
        guard let iterable = type as? any (CaseIterable & RawRepresentable).Type else { return nil }
        func raw<E: CaseIterable & RawRepresentable>(_ type: E.Type) -> [Any] { type.allCases.map(\.rawValue) }
        let raws = raw(iterable)
        return (raws.compactMap { $0 as? String }, raws.first)
    }

    /// Where a `DecodingError` happened and why.
    private static func describe(_ error: DecodingError) -> (path: String?, text: String) {
        let context: DecodingError.Context
        switch error {
        case .keyNotFound(_, let c), .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): context = c
        @unknown default: return (nil, "\(error)")
        }
        let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
        return (path.isEmpty ? nil : WireSchema.pointer(path), context.debugDescription)
    }
}

/// An array index or dictionary key in a coding path.
struct SchemaKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

/// An object: records each key asked for. Lists one placeholder key when `Key` takes any string (a dictionary).
struct RecordingKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let recorder: SchemaRecorder
    var codingPath: [any CodingKey] { recorder.codingPath }

    var allKeys: [Key] {
        // A `CodingKeys` enum refuses an arbitrary string; dictionary keys take any.
        guard Key(stringValue: "\u{1}probe") != nil, !recorder.exhausted, let key = Key(stringValue: SchemaNode.dynamicKey) else { return [] }
        recorder.node.listedKeys = true
        return [key]
    }

    func contains(_ key: Key) -> Bool {
        _ = recorder.node.member(key.stringValue, required: false)
        return true
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        recorder.node.member(key.stringValue, required: nil).schema.nullable = true
        return recorder.exhausted
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try member(key, required: true).decode(type) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try member(key, required: true).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try member(key, required: true).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { recorder.child(recorder.node.member("super", required: true), at: SchemaKey(stringValue: "super")) }
    func superDecoder(forKey key: Key) throws -> any Decoder { member(key, required: true) }

    private func member(_ key: Key, required: Bool) -> SchemaRecorder {
        recorder.child(recorder.node.member(key.stringValue, required: required), at: key)
    }
}

/// An array: yields one element (none past the depth bound), whose schema becomes `items`.
struct RecordingUnkeyedContainer: UnkeyedDecodingContainer {
    let recorder: SchemaRecorder
    var currentIndex = 0
    var codingPath: [any CodingKey] { recorder.codingPath }
    var count: Int? { recorder.exhausted ? 0 : 1 }
    var isAtEnd: Bool { currentIndex >= count ?? 0 }

    mutating func decodeNil() throws -> Bool {
        element().schema.nullable = true
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decode(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { next() }

    private func element() -> SchemaNode {
        let node = recorder.node.items ?? SchemaNode()
        recorder.node.items = node
        return node
    }

    private mutating func next() -> SchemaRecorder {
        defer { currentIndex += 1 }
        return recorder.child(element(), at: SchemaKey(intValue: currentIndex))
    }
}

/// A single value: primitives and wrappers (`Optional`, raw-value enums) decode into the same node.
struct RecordingSingleValueContainer: SingleValueDecodingContainer {
    let recorder: SchemaRecorder
    var codingPath: [any CodingKey] { recorder.codingPath }

    func decodeNil() -> Bool {
        recorder.node.schema.nullable = true
        return recorder.exhausted
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try recorder.decode(type) }
}
