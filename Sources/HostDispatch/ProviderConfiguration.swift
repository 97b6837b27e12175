import ProviderWire

/// One provider the Host loads: a name, the library, and the options passed to its `create`.
public struct ProviderSpec: Sendable, Hashable {
    /// The name workspaces use (must equal the library's manifest name).
    public var name: String
    public var library: String
    public var options: JSONValue
    /// Worker threads for this provider's verbs.
    public var threads: Int
    /// Default per-verb timeout.
    public var timeoutSeconds: Int

    public init(name: String, library: String, options: JSONValue = .object([:]), threads: Int = 16, timeoutSeconds: Int = 120) {
        self.name = name
        self.library = library
        self.options = options
        self.threads = threads
        self.timeoutSeconds = timeoutSeconds
    }
}

/// What `/admin/providers` shows about a loaded provider.
public struct ProviderSummary: Sendable, Codable, Hashable {
    public var name: String
    public var version: String
    public var library: String
    public var abi: UInt32
    public var verbs: [String]
    public var manifest: ProviderManifest
    public var manifestNote: Bool
}
