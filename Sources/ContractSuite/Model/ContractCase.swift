import ProviderWire

/// One conformance case: the documented promise it checks, the profile it belongs to, and what it needs.
public struct ContractCase: Sendable {
    /// Stable id (`lifecycle.basic`); `--filter` matches it.
    public let id: String
    /// One line: the behaviour the case pins.
    public let summary: String
    /// The profile whose claim the case is part of.
    public let profile: ContractProfile
    /// Verbs whose parity cell this case counts toward.
    public let exercises: [Verb]
    /// Verbs that must be claimed for the case to apply (default: `exercises`).
    public let requires: [Verb]
    /// Manifest features the case tests; without them the case is NOT-APPLICABLE.
    public let features: [ProviderFeature]
    /// What `--filter` matches besides the id: the profile, the verbs exercised, the features, and extra tags.
    public let tags: [String]
    let body: @Sendable (ContractRun) async throws -> Void

    public init(
        _ id: String,
        _ summary: String,
        profile: ContractProfile,
        exercises: [Verb],
        requires: [Verb]? = nil,
        features: [ProviderFeature] = [],
        tags: [String] = [],
        body: @escaping @Sendable (ContractRun) async throws -> Void
    ) {
        self.id = id
        self.summary = summary
        self.profile = profile
        self.exercises = exercises
        self.requires = requires ?? exercises
        self.features = features
        var all = [profile.id] + exercises.map(\.wireName) + features.map(\.rawValue) + tags
        all = all.reduce(into: []) { unique, tag in if !unique.contains(tag) { unique.append(tag) } }
        self.tags = all
        self.body = body
    }
}
