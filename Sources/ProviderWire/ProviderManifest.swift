/// What a provider says about itself: read at load time (and, when embedded as an ELF note, before load),
/// without running any verb.
public struct ProviderManifest: Sendable, Hashable, Codable {
    /// The ABI version range the provider speaks.
    public struct ABIRange: Sendable, Hashable, Codable {
        public var min: UInt32
        public var max: UInt32
        /// The minor of `max` whose table this manifest describes (absent = 0): it claims only verbs of that minor.
        public var minor: UInt32?
        public init(min: UInt32, max: UInt32, minor: UInt32? = nil) {
            self.min = min
            self.max = max
            self.minor = minor
        }
        public func overlaps(_ other: ABIRange) -> Bool { min <= other.max && other.min <= max }
    }

    /// A verb the provider claims, with the version of that verb's contract it implements.
    public struct VerbClaim: Sendable, Hashable, Codable {
        public var contract: Int
        public init(contract: Int) { self.contract = contract }
    }

    /// The provider's unique name (a workspace records it to pick its provider again).
    public var name: String
    /// The provider's own semantic version.
    public var version: String
    /// One line for operators.
    public var summary: String?
    public var abi: ABIRange
    /// Claimed verbs by wire name. Every claimed verb has a non-NULL slot, and every non-NULL slot is claimed.
    public var verbs: [String: VerbClaim]
    /// Why an unclaimed verb is unsupported, by wire name (optional, shown in the parity matrix).
    public var unsupported: [String: String]?
    /// Behaviours beyond the verbs that the provider promises (``ProviderFeature`` raw values; unknown ones are
    /// kept and ignored). The contract suite holds a provider to every feature it declares, and to no other.
    public var features: [String]?

    public init(
        name: String,
        version: String,
        summary: String? = nil,
        abi: ABIRange,
        verbs: [String: VerbClaim],
        unsupported: [String: String]? = nil,
        features: [String]? = nil
    ) {
        self.features = features
        self.name = name
        self.version = version
        self.summary = summary
        self.abi = abi
        self.verbs = verbs
        self.unsupported = unsupported
    }

    /// Whether the manifest declares `feature`.
    public func declares(_ feature: ProviderFeature) -> Bool { features?.contains(feature.rawValue) ?? false }

    /// The claimed verbs that this Host knows, in slot order.
    public var claimedVerbs: [Verb] {
        Verb.allCases.filter { verbs[$0.wireName] != nil }
    }

    /// This manifest as a Host that negotiated ABI 1.`minor` reads it: claims, reasons and features of later minors
    /// dropped (how an ELF note, which describes the provider's newest table, compares with a downgraded answer).
    public func limited(toMinor minor: UInt32) -> ProviderManifest {
        var copy = self
        let known = Set(Verb.verbs(upToMinor: minor).map(\.wireName))
        let newer = Set(Verb.allCases.map(\.wireName)).subtracting(known)
        copy.verbs = verbs.filter { !newer.contains($0.key) }
        copy.unsupported = unsupported?.filter { !newer.contains($0.key) }
        if copy.unsupported?.isEmpty == true { copy.unsupported = nil }
        if (abi.minor ?? 0) > minor { copy.abi.minor = minor == 0 ? nil : minor }
        return copy
    }

    /// The longest provider name, in bytes.
    public static let maxNameBytes = 64

    /// Checks the fields a Host relies on; returns a reason when the manifest is unusable.
    public func validationProblem() -> String? {
        if name.isEmpty { return "manifest has an empty \"name\"" }
        // Plain ASCII only: a look-alike from another script ("prоcess" with a Cyrillic о) must never pass for a
        // provider an operator knows.
        if name.utf8.count > Self.maxNameBytes {
            return "manifest name is \(name.utf8.count) bytes long; the limit is \(Self.maxNameBytes) (plain ASCII)"
        }
        if name.unicodeScalars.contains(where: {
            !($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)))
        }) {
            return "manifest name \"\(name)\" may contain only ASCII letters, digits, '-', '_' and '.'"
        }
        if !Self.isSemver(version) { return "manifest version \"\(version)\" is not a semantic version (MAJOR.MINOR.PATCH)" }
        if abi.min > abi.max { return "manifest ABI range \(abi.min)...\(abi.max) is empty" }
        for (verb, claim) in verbs where claim.contract < 1 {
            return "manifest claims verb \"\(verb)\" with contract version \(claim.contract) (must be >= 1)"
        }
        return nil
    }

    static func isSemver(_ text: String) -> Bool {
        let core = text.split(separator: "-", maxSplits: 1).first.map(String.init) ?? ""
        let parts = core.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 3 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }
}

/// A promise a provider may declare in its manifest's `features`, beyond the verbs it claims.
public enum ProviderFeature: String, Sendable, Hashable, Codable, CaseIterable {
    /// `provision` writes `seed_archive` (a template's files) into the files root and answers `"seeded": true`.
    case seedArchive = "seed_archive"
    /// The workload runs as processes of this machine (no container or VM boundary); `stop` ends every one of them.
    case hostProcesses = "host_processes"
}
