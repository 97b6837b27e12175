import Foundation
import ProviderHost
import ProviderWire

/// Drives one provider library through the whole catalogue, through its `.so` and the C ABI, and reports.
public struct ContractRunner: Sendable {
    public let library: ProviderLibrary
    public let configuration: ContractConfiguration
    /// Only cases whose id contains this text run (others are reported skipped).
    public let filter: String?
    /// Receives one line per case as it finishes.
    public let progress: @Sendable (String) -> Void

    public init(
        library: ProviderLibrary,
        configuration: ContractConfiguration,
        filter: String? = nil,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.library = library
        self.configuration = configuration
        self.filter = filter
        self.progress = progress
    }

    /// Runs the suite. Throws only when the provider cannot even be instantiated with the configuration.
    public func run() async throws -> ContractReport {
        let started = Date()
        let clock = ContinuousClock.now
        let runId = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let owner = configuration.config["owner"]?.stringValue ?? "contract-\(runId)"
        var config = configuration.config
        if case .object(var object) = config, object["owner"] == nil {
            object["owner"] = .string(owner)
            config = .object(object)
        }
        let instance: ProviderInstance
        do {
            instance = try ProviderInstance(library: library, configuration: config, threads: 16, defaultTimeout: .milliseconds(configuration.verbTimeoutMs))
        } catch {
            throw ContractConfigurationError("\(library.manifest.name): create failed with the contract configuration: \(error.status.name): \(error.message)")
        }
        let run = ContractRun(instance: instance, library: library, configuration: configuration, owner: owner, runId: runId)
        let claimed = Set(library.supportedVerbs)
        progress("contract suite \(ContractCatalogue.suiteVersion): provider \(library.manifest.name) \(library.manifest.version) (ABI \(library.abiVersion)) from \(library.path)")

        var results: [CaseResult] = []
        for contractCase in ContractCatalogue.cases {
            let result = await runCase(contractCase, run: run, claimed: claimed)
            results.append(result)
            progress(line(for: result))
        }
        results.append(contentsOf: await unsupportedResults(run: run, claimed: claimed))
        results.append(await cleanUp(run: run, claimed: claimed))
        results.suffix(from: ContractCatalogue.cases.count).forEach { progress(line(for: $0)) }
        await instance.shutdown()

        let verbs = verbResults(results, claimed: claimed)
        let passed = verbs.allSatisfy { $0.outcome == .passed || $0.outcome == .unsupported } && !results.contains { $0.outcome == .failed }
        let provenance = ContractProvenance(
            providerName: library.manifest.name, providerVersion: library.manifest.version, libraryPath: library.path,
            librarySHA256: library.sha256, abiNegotiated: library.abiVersion, abiRange: library.manifest.abi,
            suiteVersion: ContractCatalogue.suiteVersion,
            hostABIRange: .init(min: ProviderLibrary.hostABIRange.lowerBound, max: ProviderLibrary.hostABIRange.upperBound),
            manifestNote: library.hasManifestNote
        )
        let report = ContractReport(
            provenance: provenance, manifest: library.manifest, startedAt: ISO8601DateFormatter().string(from: started),
            durationMs: Self.milliseconds(ContinuousClock.now - clock), cases: results, verbs: verbs, passed: passed
        )
        let failedVerbs = verbs.filter { $0.outcome == .failed || $0.outcome == .untested }.map(\.verb)
        progress(
            passed
                ? "PASSED: every claimed verb passed; every unclaimed verb answered UNSUPPORTED"
                : "FAILED: \(failedVerbs.isEmpty ? "see the failed cases" : "verbs " + failedVerbs.joined(separator: ", "))"
        )
        return report
    }

    func runCase(_ contractCase: ContractCase, run: ContractRun, claimed: Set<Verb>) async -> CaseResult {
        let verbs = contractCase.exercises.map(\.wireName)
        if let filter, !contractCase.id.contains(filter) {
            return CaseResult(id: contractCase.id, verbs: verbs, outcome: .skipped, durationMs: 0, message: "filtered out")
        }
        let missing = contractCase.requires.filter { !claimed.contains($0) }
        if !missing.isEmpty {
            return CaseResult(
                id: contractCase.id, verbs: verbs, outcome: .skipped, durationMs: 0,
                message: "needs unclaimed \(missing.map(\.wireName).joined(separator: ", "))"
            )
        }
        let started = ContinuousClock.now
        do {
            try await contractCase.body(run)
            return CaseResult(id: contractCase.id, verbs: verbs, outcome: .passed, durationMs: Self.milliseconds(ContinuousClock.now - started))
        } catch let skip as ContractSkip {
            return CaseResult(id: contractCase.id, verbs: verbs, outcome: .skipped, durationMs: 0, message: skip.description)
        } catch {
            return CaseResult(
                id: contractCase.id, verbs: verbs, outcome: .failed, durationMs: Self.milliseconds(ContinuousClock.now - started),
                message: "\(error)"
            )
        }
    }

    /// Every unclaimed verb must answer exactly UNSUPPORTED.
    func unsupportedResults(run: ContractRun, claimed: Set<Verb>) async -> [CaseResult] {
        var results: [CaseResult] = []
        for verb in Verb.allCases where !claimed.contains(verb) {
            let id = "unsupported.\(verb.wireName)"
            if let filter, !id.contains(filter) { continue }
            let started = ContinuousClock.now
            let request = Array(#"{"workspace_id":"ct-\#(run.runId)-unsupported"}"#.utf8)
            var outcome = CaseOutcome.passed
            var message: String?
            do {
                _ = try await run.instance.call(verb, request: request, timeout: run.timeout)
                outcome = .failed
                message = "unclaimed verb \(verb) succeeded instead of answering UNSUPPORTED"
            } catch {
                if error.status != .unsupported {
                    outcome = .failed
                    message = "unclaimed verb \(verb) answered \(error.status.name) instead of UNSUPPORTED: \(error.message)"
                }
            }
            results.append(CaseResult(id: id, verbs: [verb.wireName], outcome: outcome, durationMs: Self.milliseconds(ContinuousClock.now - started), message: message))
        }
        return results
    }

    /// Stops and removes everything the run created, then requires list_owned to show no instance of this owner.
    func cleanUp(run: ContractRun, claimed: Set<Verb>) async -> CaseResult {
        let started = ContinuousClock.now
        var problems: [String] = []
        for id in run.provisionedIds {
            do { _ = try await run.instance.call(.stop, WorkspaceRef(workspaceId: id), as: StopResponse.self) } catch {
                problems.append("stop \(id): \(error.status.name): \(error.message)")
            }
            if claimed.contains(.removeStorage) {
                do { _ = try await run.instance.call(.removeStorage, WorkspaceRef(workspaceId: id), as: RemoveStorageResponse.self) } catch {
                    problems.append("remove_storage \(id): \(error.status.name): \(error.message)")
                }
            }
        }
        if claimed.contains(.listOwned) {
            do {
                let owned = try await run.instance.call(.listOwned, ListOwnedRequest(owner: run.owner), as: ListOwnedResponse.self)
                let left = owned.resources.filter { $0.kind == .instance }.map(\.workspaceId)
                if !left.isEmpty { problems.append("instances left running after the suite: \(left.joined(separator: ", "))") }
            } catch { problems.append("list_owned: \(error.status.name): \(error.message)") }
        }
        return CaseResult(
            id: "cleanup.nothing-left", verbs: claimed.contains(.listOwned) ? [Verb.listOwned.wireName] : [],
            outcome: problems.isEmpty ? .passed : .failed, durationMs: Self.milliseconds(ContinuousClock.now - started),
            message: problems.isEmpty ? nil : problems.joined(separator: "; ")
        )
    }

    func verbResults(_ results: [CaseResult], claimed: Set<Verb>) -> [VerbResult] {
        Verb.allCases.map { verb in
            let name = verb.wireName
            let exercising = results.filter { $0.verbs.contains(name) && $0.outcome != .skipped }
            let outcome: VerbOutcome
            if claimed.contains(verb) {
                if exercising.isEmpty {
                    outcome = .untested
                } else {
                    outcome = exercising.allSatisfy { $0.outcome == .passed } ? .passed : .failed
                }
            } else {
                outcome = exercising.allSatisfy { $0.outcome == .passed } ? .unsupported : .failed
            }
            return VerbResult(
                verb: name, claimed: claimed.contains(verb), contract: library.manifest.verbs[name]?.contract, outcome: outcome,
                cases: exercising.map(\.id), reason: claimed.contains(verb) ? nil : library.manifest.unsupported?[name]
            )
        }
    }

    func line(for result: CaseResult) -> String {
        let tag = switch result.outcome {
        case .passed: "PASS"
        case .failed: "FAIL"
        case .skipped: "SKIP"
        }
        return "  \(tag) \(result.id) (\(result.durationMs) ms)" + (result.message.map { ": \($0)" } ?? "")
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}
