/// The canonical error taxonomy of the provider ABI (`mp_status`).
public enum ProviderStatus: Int32, CaseIterable, Sendable, Codable, CustomStringConvertible {
    case ok = 0
    case notFound = 1
    case alreadyExists = 2
    case unsupported = 3
    case invalidArgument = 4
    case conflict = 5
    case unavailable = 6
    case deadlineExceeded = 7
    case unauthenticated = 8
    case quotaExceeded = 9
    case `internal` = 10

    /// The upper-snake name used in logs, HTTP error codes and contract results (e.g. `NOT_FOUND`).
    public var name: String {
        switch self {
        case .ok: "OK"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .unsupported: "UNSUPPORTED"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .conflict: "CONFLICT"
        case .unavailable: "UNAVAILABLE"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .unauthenticated: "UNAUTHENTICATED"
        case .quotaExceeded: "QUOTA_EXCEEDED"
        case .internal: "INTERNAL"
        }
    }

    /// Whether a call that failed with this status may succeed if retried unchanged, absent other information.
    public var isRetryableByDefault: Bool {
        switch self {
        case .unavailable, .deadlineExceeded, .quotaExceeded: true
        default: false
        }
    }

    public var description: String { name }
}
