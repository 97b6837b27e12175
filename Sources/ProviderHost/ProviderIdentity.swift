import ProviderWire

/// What the Host knows of a loaded provider library, as a plain value: the same whether the library is loaded in
/// this process or in a runner process (which reports it over the socket).
public struct ProviderIdentity: Sendable, Hashable, Codable {
    /// The path it was loaded from.
    public var path: String
    /// The provider's manifest.
    public var manifest: ProviderManifest
    /// The manifest text as the provider returned it.
    public var manifestJSON: String
    /// The negotiated ABI version.
    public var abiVersion: UInt32
    /// The negotiated minor of ``abiVersion`` (a provider built against the 1.0 header speaks 0).
    public var abiMinor: UInt32
    /// Whether the manifest was also embedded as an ELF note.
    public var hasManifestNote: Bool
    /// Wall time of validate + dlopen + negotiate, nanoseconds.
    public var loadNanoseconds: UInt64
    /// The verbs whose slot is non-NULL (equal to the manifest's claims, checked at load).
    public var supportedVerbs: [Verb]

    /// sha256 of the file, hex (provenance for contract results).
    public var sha256: String { Self.fileSHA256(path) }

    /// sha256 of the file at `path`, hex ("" when it cannot be read).
    public static func fileSHA256(_ path: String) -> String { ProviderLibrary.fileSHA256(path) }
}
