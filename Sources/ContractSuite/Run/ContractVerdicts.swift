import ProviderWire

/// Turns case results into the verbs' and profiles' verdicts (the parity matrix's cells).
enum ContractVerdicts {
    static func verbs(_ results: [CaseResult], claimed: Set<Verb>, manifest: ProviderManifest, complete: Bool) -> [VerbResult] {
        Verb.allCases.map { verb in
            let name = verb.wireName
            let exercising = results.filter { $0.verbs.contains(name) && ($0.outcome == .passed || $0.outcome == .failed) }
            let outcome: VerbOutcome
            if claimed.contains(verb) {
                if exercising.isEmpty {
                    outcome = complete ? .untested : .notRun
                } else {
                    outcome = exercising.allSatisfy { $0.outcome == .passed } ? .passed : .failed
                }
            } else {
                outcome = exercising.allSatisfy { $0.outcome == .passed } ? .unsupported : .failed
            }
            return VerbResult(
                verb: name, claimed: claimed.contains(verb), contract: manifest.verbs[name]?.contract, outcome: outcome,
                cases: exercising.map(\.id), reason: claimed.contains(verb) ? nil : manifest.unsupported?[name]
            )
        }
    }

    static func profiles(_ results: [CaseResult], claimed: Set<Verb>) -> [ProfileResult] {
        var verdicts: [String: ProfileResult] = [:]
        for profile in ContractProfile.all {
            let own = profile.verbs.filter { claimed.contains($0) }
            let members = results.filter { profile.closure.contains($0.profile) }
            var result = ProfileResult(
                id: profile.id, summary: profile.summary, claimed: own.count == profile.verbs.count, outcome: .passed, cases: members.map(\.id))
            let included = profile.includes.compactMap { verdicts[$0] }
            if own.isEmpty {
                result.outcome = .notApplicable
                result.reason = "the manifest claims none of \(profile.verbs.map(\.wireName).joined(separator: ", "))"
                result.cases = []
            } else if own.count < profile.verbs.count {
                let missing = profile.verbs.filter { !claimed.contains($0) }.map(\.wireName)
                result.outcome = .failed
                result.reason = "claimed in part: the manifest lacks \(missing.joined(separator: ", ")) (a profile is claimed whole)"
            } else if let failedCase = members.first(where: { $0.outcome == .failed }) {
                result.outcome = .failed
                result.reason = "\(failedCase.id) failed" + (members.filter { $0.outcome == .failed }.count > 1 ? " (and others)" : "")
            } else if let bad = included.first(where: { $0.outcome != .passed }) {
                result.outcome = bad.outcome == .notRun ? .notRun : .failed
                result.reason = "it includes \(bad.id), which is \(bad.outcome.rawValue)"
            } else if members.contains(where: { $0.outcome == .notRun }) {
                result.outcome = .notRun
                result.reason = "\(members.filter { $0.outcome == .notRun }.count) of its cases were not selected"
            } else if !members.contains(where: { $0.outcome == .passed }) {
                result.outcome = .failed
                result.reason = "no case of it ran"
            }
            verdicts[profile.id] = result
        }
        return ContractProfile.all.compactMap { verdicts[$0.id] }
    }
}
