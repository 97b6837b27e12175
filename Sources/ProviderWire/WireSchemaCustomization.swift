/// A string enumeration whose cases ``WireSchema/derive(_:maxDepth:)`` lists as `enum` (and decodes the first of as
/// its placeholder).
///
/// `CaseIterable` enums with `String` raw values are detected without it; adopt it for the others by listing the raw
/// values (`static var schemaCases: [String] { ["instance", "storage", "snapshot"] }`).
public protocol WireSchemaEnumerable {
    /// Every raw value, in declaration order.
    static var schemaCases: [String] { get }
}

extension WireSchemaEnumerable where Self: CaseIterable & RawRepresentable, RawValue == String {
    public static var schemaCases: [String] { allCases.map(\.rawValue) }
}

/// A type that supplies its own schema instead of having it recorded from its `init(from:)`: the escape hatch for
/// decoders that the recording cannot follow (several shapes, validation no placeholder passes).
public protocol WireSchemaDescribing {
    /// The type's schema.
    static var wireSchema: WireSchema { get }
    /// A value to hand to the containing type's `init(from:)`; `nil` (the default): decode one from placeholders.
    static var wireSchemaPlaceholder: Self? { get }
}

extension WireSchemaDescribing {
    public static var wireSchemaPlaceholder: Self? { nil }
}

/// Pass-through options: any JSON value.
extension JSONValue: WireSchemaDescribing {
    public static var wireSchema: WireSchema { .any }
    public static var wireSchemaPlaceholder: JSONValue? { .object([:]) }
}
