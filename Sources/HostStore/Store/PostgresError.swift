/// A database failure. ``isUnavailable`` separates "the database cannot be reached" (the API answers 503) from
/// statement errors (constraint violations, bad SQL: a bug or a conflict).
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public enum Kind: Sendable, Equatable {
        /// Could not connect, or the connection broke.
        case unavailable
        /// The server rejected the statement; `sqlState` says why (e.g. 23505 unique violation).
        case statement
        /// A value in a row could not be read as the expected type.
        case decoding
    }

    public var kind: Kind
    /// SQLSTATE, when the server sent one.
    public var sqlState: String?
    public var message: String

    public init(_ kind: Kind, _ message: String, sqlState: String? = nil) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
    }

    public var isUnavailable: Bool { kind == .unavailable }
    public var isUniqueViolation: Bool { sqlState == "23505" }

    public var description: String { sqlState.map { "\(message) (SQLSTATE \($0))" } ?? message }
}
