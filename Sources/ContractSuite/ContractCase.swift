import ProviderWire

/// One conformance case: what it checks, which verbs it exercises, and which it needs the provider to claim.
public struct ContractCase: Sendable {
    /// Stable id (`lifecycle.basic`); `--filter` matches it.
    public let id: String
    /// One line: the behaviour the case pins.
    public let summary: String
    /// Verbs whose parity cell this case counts toward.
    public let exercises: [Verb]
    /// Verbs that must be claimed for the case to run (default: `exercises`).
    public let requires: [Verb]
    let body: @Sendable (ContractRun) async throws -> Void

    public init(
        _ id: String,
        _ summary: String,
        exercises: [Verb],
        requires: [Verb]? = nil,
        body: @escaping @Sendable (ContractRun) async throws -> Void
    ) {
        self.id = id
        self.summary = summary
        self.exercises = exercises
        self.requires = requires ?? exercises
        self.body = body
    }
}
