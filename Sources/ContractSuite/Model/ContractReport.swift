import ProviderWire

/// The outcome of one contract case.
public enum CaseOutcome: String, Sendable, Codable, Hashable {
    case passed
    case failed
    /// The manifest does not claim a verb, or declare a feature, the case needs — the only way a case may not run in
    /// a complete run.
    case notApplicable = "not-applicable"
    /// Left out by `--filter` or `--profile`.
    case notRun = "not-run"
}

/// What one verb earned in a run: the parity matrix's cell.
public enum VerbOutcome: String, Sendable, Codable, Hashable {
    /// Claimed, and every case exercising it passed.
    case passed
    /// Claimed and a case failed, or unclaimed but answered something other than UNSUPPORTED.
    case failed
    /// Not claimed, and answered exactly UNSUPPORTED.
    case unsupported
    /// Claimed, but no case exercising it ran in a complete run.
    case untested
    /// Claimed, and the cases exercising it were left out of this run.
    case notRun = "not-run"
}

/// What a profile earned in a run.
public enum ProfileOutcome: String, Sendable, Codable, Hashable {
    /// Claimed, and every case of it (and of the profiles it includes) passed; none was left out.
    case passed
    /// Claimed and a case failed, or claimed in part (some of its verbs but not all).
    case failed
    /// Not claimed: the manifest claims none of its verbs.
    case notApplicable = "not-applicable"
    /// Claimed, but cases of it were left out of this run.
    case notRun = "not-run"
}

/// One case's result.
public struct CaseResult: Sendable, Codable, Hashable {
    public var id: String
    public var profile: String
    public var tags: [String]
    public var verbs: [String]
    public var outcome: CaseOutcome
    public var durationMs: Int
    /// Why it failed, or why it does not apply.
    public var message: String?

    public init(
        id: String, profile: String, tags: [String] = [], verbs: [String], outcome: CaseOutcome, durationMs: Int, message: String? = nil
    ) {
        self.id = id
        self.profile = profile
        self.tags = tags
        self.verbs = verbs
        self.outcome = outcome
        self.durationMs = durationMs
        self.message = message
    }

    enum CodingKeys: String, CodingKey {
        case id, profile, tags, verbs, outcome
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

/// One profile's result.
public struct ProfileResult: Sendable, Codable, Hashable {
    public var id: String
    public var summary: String
    public var claimed: Bool
    public var outcome: ProfileOutcome
    /// The cases the profile's claim rests on (its own and its included profiles'), in run order.
    public var cases: [String]
    /// Why it failed, does not apply, or was not run.
    public var reason: String?
}

/// Where a result came from: which binary, which provider, which ABI, which suite, which Host.
public struct ContractProvenance: Sendable, Codable, Hashable {
    public var providerName: String
    public var providerVersion: String
    public var libraryPath: String
    public var librarySHA256: String
    public var abiNegotiated: UInt32
    public var abiRange: ProviderManifest.ABIRange
    public var suiteVersion: String
    public var hostVersion: String
    public var hostABIRange: ProviderManifest.ABIRange
    public var manifestNote: Bool
    /// The manifest's declared features.
    public var features: [String]

    enum CodingKeys: String, CodingKey {
        case providerName = "provider_name"
        case providerVersion = "provider_version"
        case libraryPath = "library_path"
        case librarySHA256 = "library_sha256"
        case abiNegotiated = "abi_negotiated"
        case abiRange = "abi_range"
        case suiteVersion = "suite_version"
        case hostVersion = "host_version"
        case hostABIRange = "host_abi_range"
        case manifestNote = "manifest_note"
        case features
    }
}

/// A whole run: the conformance report (`--report`), format `molecule-conformance` version 2 — documented in
/// docs/conformance.md; `parity` reads it.
public struct ContractReport: Sendable, Codable, Hashable {
    /// The format's name and version: a reader refuses a version it does not know.
    public static let format = "molecule-conformance"
    public static let formatVersion = 2

    public var format: String = ContractReport.format
    public var formatVersion: Int = ContractReport.formatVersion
    /// The column name in the parity matrix (default: the provider's name; e.g. `docker (podman)`).
    public var label: String
    public var provenance: ContractProvenance
    public var manifest: ProviderManifest
    public var startedAt: String
    public var durationMs: Int
    /// The `--filter` terms and `--profile` ids the run was limited to (empty: a complete run).
    public var selection: [String]
    public var profiles: [ProfileResult]
    public var cases: [CaseResult]
    public var verbs: [VerbResult]
    /// No case failed, every claimed profile that ran passed, and (in a complete run) every claimed verb was proven
    /// and every unclaimed verb answered UNSUPPORTED.
    public var passed: Bool

    enum CodingKeys: String, CodingKey {
        case format
        case formatVersion = "format_version"
        case label, provenance, manifest
        case startedAt = "started_at"
        case durationMs = "duration_ms"
        case selection, profiles, cases, verbs, passed
    }

    /// Whether the run was complete (no `--filter`, no `--profile`): only a complete run makes a conformance claim.
    public var complete: Bool { selection.isEmpty }

    /// The report without what changes from run to run (timings, paths, hashes, failure texts): what `docs/parity/`
    /// commits.
    public var stable: ContractReport {
        var copy = self
        copy.startedAt = ""
        copy.durationMs = 0
        copy.provenance.libraryPath = ""
        copy.provenance.librarySHA256 = ""
        copy.cases = cases.map {
            var c = $0
            c.durationMs = 0
            c.message = c.outcome == .notApplicable ? c.message : nil
            return c
        }
        return copy
    }
}
