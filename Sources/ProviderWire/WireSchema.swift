import Foundation

/// The subset of JSON Schema (2020-12) that describes the wire shapes: a type (or any), object properties and the
/// required ones, array items, additional properties, string enumerations and a description.
///
/// Derive one from a `Decodable` type with ``derive(_:maxDepth:)``, check a value with ``validate(_:)`` and publish
/// it with ``jsonValue`` or ``jsonText(pretty:)``.
public struct WireSchema: Sendable, Hashable, Encodable {
    /// A JSON Schema primitive type.
    public enum JSONType: String, Sendable, Hashable, CaseIterable {
        case object, array, string, integer, number, boolean, null
    }

    /// What an object allows besides its ``properties``.
    public indirect enum AdditionalProperties: Sendable, Hashable {
        /// `true`: anything; `false`: nothing.
        case allowed(Bool)
        /// Every other member must match the schema (a `[String: T]` dictionary).
        case schema(WireSchema)
    }

    /// The value's type; `nil` accepts any value (`{}`).
    public var type: JSONType?
    /// Whether `null` is accepted as well (`"type": [type, "null"]`): optional fields, which decoders take as absent.
    public var nullable: Bool
    public var description: String?
    /// Object members by name.
    public var properties: [String: WireSchema]
    /// Members an object must have, in the order `init(from:)` decodes them.
    public var required: [String]
    /// Unset: other members are allowed and unchecked.
    public var additionalProperties: AdditionalProperties?
    /// The strings a string may be (a `String`-raw-value enum).
    public var enumValues: [String]?
    private var itemStorage: [WireSchema]

    /// The schema of every element of an array; `nil` accepts any element.
    public var items: WireSchema? {
        get { itemStorage.first }
        set { itemStorage = newValue.map { [$0] } ?? [] }
    }

    /// A schema; the defaults accept any value.
    public init(
        type: JSONType? = nil, nullable: Bool = false, description: String? = nil,
        properties: [String: WireSchema] = [:], required: [String] = [], items: WireSchema? = nil,
        additionalProperties: AdditionalProperties? = nil, enumValues: [String]? = nil
    ) {
        self.type = type
        self.nullable = nullable
        self.description = description
        self.properties = properties
        self.required = required
        self.additionalProperties = additionalProperties
        self.enumValues = enumValues
        self.itemStorage = items.map { [$0] } ?? []
    }

    /// The schema that accepts any value (`{}`).
    public static var any: WireSchema { WireSchema() }

    /// The schema as a JSON value (keywords present only when set).
    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = [:]
        if let type {
            object["type"] = nullable && type != .null ? [.string(type.rawValue), "null"] : .string(type.rawValue)
        }
        if let description { object["description"] = .string(description) }
        if let enumValues { object["enum"] = .array(enumValues.map(JSONValue.string) + (nullable ? [.null] : [])) }
        if !properties.isEmpty { object["properties"] = .object(properties.mapValues(\.jsonValue)) }
        if !required.isEmpty { object["required"] = .array(required.map(JSONValue.string)) }
        if let items { object["items"] = items.jsonValue }
        switch additionalProperties {
        case .allowed(let allowed)?: object["additionalProperties"] = .bool(allowed)
        case .schema(let schema)?: object["additionalProperties"] = schema.jsonValue
        case nil: break
        }
        return .object(object)
    }

    /// The schema as JSON text with sorted keys (stable bytes).
    public func jsonText(pretty: Bool = false) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        // A JSONValue without non-finite numbers always encodes.
        return (try? encoder.encode(jsonValue)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    public func encode(to encoder: any Encoder) throws { try jsonValue.encode(to: encoder) }
}
