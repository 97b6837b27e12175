/// Why a request body was refused, before anything was read from or written to the database.
public enum RequestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not JSON, or not UTF-8.
    case invalidJSON(String)
    /// JSON of the wrong shape, or a value outside its bounds; the message names the field.
    case invalid(String)

    public var description: String {
        switch self {
        case .invalidJSON(let reason), .invalid(let reason): "request body: \(reason)"
        }
    }

    /// `invalid_json` or `invalid_request`, the `code` the API answers with.
    public var code: String {
        switch self {
        case .invalidJSON: "invalid_json"
        case .invalid: "invalid_request"
        }
    }
}
