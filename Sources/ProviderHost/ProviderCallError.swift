import ProviderWire

/// A verb call that did not succeed: the provider's answer, or the Host's own verdict (UNSUPPORTED for a NULL slot,
/// DEADLINE_EXCEEDED for an overrun, INTERNAL for a contract violation such as malformed JSON).
public struct ProviderCallError: Error, Sendable, Hashable, CustomStringConvertible {
    public var status: ProviderStatus
    public var message: String
    public var retryable: Bool
    public var nativeCode: Int32
    /// The provider's manifest name.
    public var provider: String
    public var verb: Verb

    public init(status: ProviderStatus, message: String, retryable: Bool? = nil, nativeCode: Int32 = 0, provider: String, verb: Verb) {
        self.status = status
        self.message = message
        self.retryable = retryable ?? status.isRetryableByDefault
        self.nativeCode = nativeCode
        self.provider = provider
        self.verb = verb
    }

    public var description: String { "\(provider).\(verb): \(status.name): \(message)" }

    /// The message the Host puts on an error the provider answered without one (NULL or empty) — the ABI requires a
    /// message on every non-OK result, and the contract suite fails a provider whose error carries this text.
    public static func missingMessage(provider: String, status: ProviderStatus, verb: Verb) -> String {
        "provider \(provider) answered \(status.name) to \(verb) without a message"
    }

    /// The Host's own answer to a call the provider did not answer by its deadline (the provider may answer later:
    /// a ``LateAnswer``).
    public static func deadlineVerdict(provider: String, verb: Verb, timeout: Duration) -> ProviderCallError {
        ProviderCallError(
            status: .deadlineExceeded, message: "provider \(provider) did not answer \(verb) within \(timeout)", provider: provider, verb: verb)
    }

    /// Whether this is the Host's verdict at the deadline (``deadlineVerdict(provider:verb:timeout:)``), not the
    /// provider's own answer.
    public var isDeadlineVerdict: Bool {
        status == .deadlineExceeded && message.hasPrefix("provider \(provider) did not answer \(verb) within ")
    }

    /// Whether the provider left this error without a message (the Host supplied ``missingMessage(provider:status:verb:)``).
    public var providerGaveNoMessage: Bool {
        message == Self.missingMessage(provider: provider, status: status, verb: verb) || message.allSatisfy(\.isWhitespace)
    }
}
