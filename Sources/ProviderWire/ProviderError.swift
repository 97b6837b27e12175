/// An error a provider answers from a verb, mapped 1:1 onto the ABI's `mp_result`.
///
/// Throw one of the static constructors (``notFound(_:)``, ``unavailable(_:nativeCode:)``, …). Any other Swift error
/// thrown by a verb is reported as ``ProviderStatus/internal`` with its description.
public struct ProviderError: Error, Sendable, Hashable, CustomStringConvertible {
    public var status: ProviderStatus
    public var message: String
    public var retryable: Bool
    /// The backend's own code (HTTP status, errno, …), or 0.
    public var nativeCode: Int32

    public init(_ status: ProviderStatus, _ message: String, retryable: Bool? = nil, nativeCode: Int32 = 0) {
        self.status = status
        self.message = message
        self.retryable = retryable ?? status.isRetryableByDefault
        self.nativeCode = nativeCode
    }

    public static func notFound(_ message: String, nativeCode: Int32 = 0) -> Self { .init(.notFound, message, nativeCode: nativeCode) }
    public static func alreadyExists(_ message: String) -> Self { .init(.alreadyExists, message) }
    public static func unsupported(_ message: String) -> Self { .init(.unsupported, message) }
    public static func invalidArgument(_ message: String) -> Self { .init(.invalidArgument, message) }
    public static func conflict(_ message: String, nativeCode: Int32 = 0) -> Self { .init(.conflict, message, nativeCode: nativeCode) }
    public static func unavailable(_ message: String, nativeCode: Int32 = 0) -> Self {
        .init(.unavailable, message, nativeCode: nativeCode)
    }
    public static func deadlineExceeded(_ message: String) -> Self { .init(.deadlineExceeded, message) }
    public static func unauthenticated(_ message: String, nativeCode: Int32 = 0) -> Self {
        .init(.unauthenticated, message, nativeCode: nativeCode)
    }
    public static func quotaExceeded(_ message: String, nativeCode: Int32 = 0) -> Self {
        .init(.quotaExceeded, message, nativeCode: nativeCode)
    }
    public static func `internal`(_ message: String, nativeCode: Int32 = 0) -> Self {
        .init(.internal, message, nativeCode: nativeCode)
    }

    public var description: String { "\(status.name): \(message)" }
}
