import Foundation

/// Which cases a run is limited to: `--filter` terms and `--profile` ids. Empty: the complete suite (the only run
/// that makes a conformance claim). A case runs when it matches a filter term (if any are given) and belongs to a
/// selected profile (if any are given); the others are reported not run, never failed.
public struct ContractSelection: Sendable, Hashable {
    /// Case ids (`files.links`), id prefixes ending in `.` or `*` (`files.`, `lifecycle.stop*`), or tags (`logs`, `pause`).
    public var filters: [String]
    /// Profile ids; a profile selects the profiles it includes too.
    public var profiles: [String]

    public init(filters: [String] = [], profiles: [String] = []) {
        self.filters = filters.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
        self.profiles = profiles.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
    }

    public var isEmpty: Bool { filters.isEmpty && profiles.isEmpty }

    /// Profile ids that name no profile (a typo must not select nothing silently).
    public var unknownProfiles: [String] { profiles.filter { ContractProfile.named($0) == nil } }

    /// The selection as the report records it (`profile:core`, `filter:files.`).
    public var terms: [String] { profiles.map { "profile:\($0)" } + filters.map { "filter:\($0)" } }

    public var description: String { terms.joined(separator: ", ") }

    public func selects(_ contractCase: ContractCase) -> Bool {
        selects(id: contractCase.id, profile: contractCase.profile, tags: contractCase.tags)
    }

    public func selects(id: String, profile: ContractProfile, tags: [String]) -> Bool {
        let selectedProfiles = Set(profiles.compactMap(ContractProfile.named).flatMap(\.closure))
        if !profiles.isEmpty && !selectedProfiles.contains(profile.id) { return false }
        if filters.isEmpty { return true }
        return filters.contains { term in
            if term == id || tags.contains(term) { return true }
            if term.hasSuffix("*") { return id.hasPrefix(String(term.dropLast())) }
            return term.hasSuffix(".") && id.hasPrefix(term)
        }
    }
}
