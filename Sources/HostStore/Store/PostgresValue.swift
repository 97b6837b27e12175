import Foundation

/// A statement parameter, sent as text; the server casts it to the placeholder's type.
public struct PostgresValue: Sendable, Hashable {
    /// The text form, or nil for SQL NULL.
    public let text: String?

    public init(_ text: String?) { self.text = text }

    public static let null = PostgresValue(nil)
    public static func string(_ value: String?) -> PostgresValue { PostgresValue(value) }
    public static func int(_ value: Int?) -> PostgresValue { PostgresValue(value.map(String.init)) }
    public static func double(_ value: Double?) -> PostgresValue { PostgresValue(value.map { String($0) }) }
    public static func bool(_ value: Bool) -> PostgresValue { PostgresValue(value ? "true" : "false") }
    public static func uuid(_ value: UUID?) -> PostgresValue { PostgresValue(value?.uuidString.lowercased()) }
    /// Binary data as `bytea` hex input.
    public static func bytes(_ value: [UInt8]) -> PostgresValue { PostgresValue("\\x" + value.map { String(format: "%02x", $0) }.joined()) }
}

/// The rows a statement returned, as text, with typed accessors by column name.
public struct PostgresRows: Sendable {
    public let columns: [String]
    public let rows: [[String?]]
    /// Rows returned, or rows affected by a command.
    public let affected: Int

    public var count: Int { rows.count }
    public var isEmpty: Bool { rows.isEmpty }

    /// Row `index` for typed access.
    public subscript(index: Int) -> PostgresRow { PostgresRow(columns: columns, values: rows[index]) }
    public var all: [PostgresRow] { rows.map { PostgresRow(columns: columns, values: $0) } }
    public var first: PostgresRow? { rows.first.map { PostgresRow(columns: columns, values: $0) } }
}

/// One row.
public struct PostgresRow: Sendable {
    let columns: [String]
    let values: [String?]

    public func string(_ column: String) -> String? {
        guard let index = columns.firstIndex(of: column) else { return nil }
        return values[index]
    }

    public func int(_ column: String) -> Int? { string(column).flatMap { Int($0) } }
    public func double(_ column: String) -> Double? { string(column).flatMap { Double($0) } }
    public func bool(_ column: String) -> Bool? { string(column).map { $0 == "t" || $0 == "true" } }
    public func uuid(_ column: String) -> UUID? { string(column).flatMap { UUID(uuidString: $0) } }

    /// A `timestamptz` column read back as `Date` (the statements select `extract(epoch from …)` as text).
    public func epoch(_ column: String) -> Date? { double(column).map { Date(timeIntervalSince1970: $0) } }

    public func require(_ column: String) throws(PostgresError) -> String {
        guard let value = string(column) else { throw PostgresError(.decoding, "column \(column) is NULL or missing") }
        return value
    }
}
