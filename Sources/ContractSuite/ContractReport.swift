import ProviderWire

/// The outcome of one contract case.
public enum CaseOutcome: String, Sendable, Codable, Hashable {
    case passed
    case failed
    /// The provider does not claim a verb the case needs, or the configuration lacks what the case needs.
    case skipped
}

/// What one verb earned in a run: the parity matrix's cell.
public enum VerbOutcome: String, Sendable, Codable, Hashable {
    /// Claimed, and every case exercising it passed.
    case passed
    /// Claimed and a case failed, or unclaimed but answered something other than UNSUPPORTED.
    case failed
    /// Not claimed, and answered exactly UNSUPPORTED.
    case unsupported
    /// Claimed, but no case exercising it ran (filtered out or skipped).
    case untested
}

/// One case's result.
public struct CaseResult: Sendable, Codable, Hashable {
    public var id: String
    public var verbs: [String]
    public var outcome: CaseOutcome
    public var durationMs: Int
    public var message: String?

    enum CodingKeys: String, CodingKey {
        case id, verbs, outcome
        case durationMs = "duration_ms"
        case message
    }
}

/// One verb's result.
public struct VerbResult: Sendable, Codable, Hashable {
    public var verb: String
    public var claimed: Bool
    public var contract: Int?
    public var outcome: VerbOutcome
    /// Cases that exercised the verb.
    public var cases: [String]
    /// Why an unclaimed verb is unsupported (from the manifest).
    public var reason: String?
}

/// Where a result came from: which binary, which provider, which ABI, which suite.
public struct ContractProvenance: Sendable, Codable, Hashable {
    public var providerName: String
    public var providerVersion: String
    public var libraryPath: String
    public var librarySHA256: String
    public var abiNegotiated: UInt32
    public var abiRange: ProviderManifest.ABIRange
    public var suiteVersion: String
    public var hostABIRange: ProviderManifest.ABIRange
    public var manifestNote: Bool

    enum CodingKeys: String, CodingKey {
        case providerName = "provider_name"
        case providerVersion = "provider_version"
        case libraryPath = "library_path"
        case librarySHA256 = "library_sha256"
        case abiNegotiated = "abi_negotiated"
        case abiRange = "abi_range"
        case suiteVersion = "suite_version"
        case hostABIRange = "host_abi_range"
        case manifestNote = "manifest_note"
    }
}

/// A whole run: the JSON that `--json` writes and `parity` reads.
public struct ContractReport: Sendable, Codable, Hashable {
    public var provenance: ContractProvenance
    public var manifest: ProviderManifest
    public var startedAt: String
    public var durationMs: Int
    public var cases: [CaseResult]
    public var verbs: [VerbResult]
    /// True when every claimed verb passed and every unclaimed verb answered exactly UNSUPPORTED.
    public var passed: Bool

    enum CodingKeys: String, CodingKey {
        case provenance, manifest
        case startedAt = "started_at"
        case durationMs = "duration_ms"
        case cases, verbs, passed
    }

    /// The report without what changes from run to run (timings, paths, hashes): what `docs/parity/` commits.
    public var stable: ContractReport {
        var copy = self
        copy.startedAt = ""
        copy.durationMs = 0
        copy.provenance.libraryPath = ""
        copy.provenance.librarySHA256 = ""
        copy.cases = cases.map {
            var c = $0
            c.durationMs = 0
            c.message = c.outcome == .skipped ? c.message : nil
            return c
        }
        return copy
    }
}
