import Foundation
import ProviderWire

/// Every case of the suite, in the order they run. Cases are added, never silently changed: bump ``suiteVersion``
/// when one is. Each case checks a sentence of docs/provider-abi.md; its id is stable and its profile says which
/// conformance claim it is part of.
public enum ContractCatalogue {
    /// The version recorded in every result; bump it whenever a case is added or its expectations change.
    public static let suiteVersion = "2.1.0"

    /// The cases in the order they run (the long durability cycles last).
    public static let cases: [ContractCase] =
        lifecycle + deadlines + files + logs + storage + plugins + pause + snapshots + diagnose + execCases + terminal
        + durability
}

extension ContractCatalogue {
    /// The catalogue as the Markdown docs/conformance.md embeds (`molecule-host contract --list`): per profile, each
    /// case's id, what it needs beyond the profile's verbs, and the promise it checks.
    public static func markdown() -> String {
        var out = ""
        for profile in ContractProfile.all {
            let verbs = profile.verbs.map { "`\($0.wireName)`" }.joined(separator: ", ")
            let includes = profile.includes.isEmpty ? "" : "; includes " + profile.includes.map { "`\($0)`" }.joined(separator: ", ")
            out += "\n### `\(profile.id)` — \(profile.summary)\n\nClaimed with \(verbs)\(includes).\n\n"
            out += "| case | needs | checks |\n|---|---|---|\n"
            for contractCase in cases where contractCase.profile == profile {
                let beyond = contractCase.requires.filter { !profile.closure.compactMap(ContractProfile.named).flatMap(\.verbs).contains($0) }
                let needs = (beyond.map { "`\($0.wireName)`" } + contractCase.features.map { "feature `\($0.rawValue)`" }).joined(separator: ", ")
                out +=
                    "| `\(contractCase.id)` | \(needs.isEmpty ? "—" : needs) | \(contractCase.summary.replacingOccurrences(of: "|", with: "\\|")) |\n"
            }
            if profile == .lifecycle {
                out += "| `unsupported.<verb>` | an unclaimed verb | it answers exactly `UNSUPPORTED` |\n"
                out +=
                    "| `cleanup.nothing-left` | — | after the run, stop and remove_storage of everything it made leave list_owned without an instance |\n"
            }
        }
        return out
    }
}
