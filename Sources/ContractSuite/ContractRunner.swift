import Foundation
import ProviderHost
import ProviderWire
import Synchronization

/// Drives one provider library through the whole catalogue, through its `.so` and the C ABI, and reports.
///
/// The provider runs in a runner process (unless the launch says in-process), so whatever it does — crash, `exit`,
/// hang past its deadline, close descriptors — the suite survives it: that case FAILS with the reason, the runner is
/// restarted for the next one, and a report is always produced.
public final class ContractRunner: Sendable {
    public let launch: ProviderLaunch
    public let configuration: ContractConfiguration
    /// Only cases whose id contains this text run (others are reported skipped).
    public let filter: String?
    /// Receives one line per case as it finishes.
    public let progress: @Sendable (String) -> Void
    private let recorded = Mutex<(identity: ProviderIdentity?, results: [CaseResult], started: Date)>((nil, [], Date()))

    public init(
        launch: ProviderLaunch,
        configuration: ContractConfiguration,
        filter: String? = nil,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        var launch = launch
        launch.defaultTimeout = .milliseconds(configuration.verbTimeoutMs)
        launch.runner.passEnvironment += configuration.passEnvironment
        launch.runner.setEnvironment.merge(configuration.setEnvironment) { _, new in new }
        self.launch = launch
        self.configuration = configuration
        self.filter = filter
        self.progress = progress
    }

    /// Runs the suite and reports; a provider that cannot even be loaded or created is a report with one failed case.
    public func run() async -> ContractReport {
        let started = Date()
        recorded.withLock { $0 = (nil, [], started) }
        let clock = ContinuousClock.now
        let runId = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let owner = configuration.config["owner"]?.stringValue ?? "contract-\(runId)"
        var config = configuration.config
        if case .object(var object) = config, object["owner"] == nil {
            object["owner"] = .string(owner)
            config = .object(object)
        }
        var first = launch
        first.configuration = config
        let instance: ProviderInstance
        do { instance = try await ProviderInstance.start(first) } catch {
            let result = CaseResult(
                id: "load", verbs: [], outcome: .failed, durationMs: Self.milliseconds(ContinuousClock.now - clock), message: error.description)
            record(result)
            progress("FAILED: \(error.description)")
            return partialReport()
        }
        let identity = instance.identity
        recorded.withLock { $0.identity = identity }
        let run = ContractRun(instance: instance, launch: launch, identity: identity, configuration: configuration, owner: owner, runId: runId)
        let claimed = Set(identity.supportedVerbs)
        progress(
            "contract suite \(ContractCatalogue.suiteVersion): provider \(identity.manifest.name) \(identity.manifest.version) (ABI \(identity.abiVersion)) "
                + "from \(identity.path), \(launch.isolation == .process ? "in a runner process" : "in process")"
        )

        for contractCase in ContractCatalogue.cases {
            let result = await runCase(contractCase, run: run, claimed: claimed)
            record(result)
            progress(line(for: result))
        }
        for result in await unsupportedResults(run: run, claimed: claimed) + [await cleanUp(run: run, claimed: claimed)] {
            record(result)
            progress(line(for: result))
        }
        let restarts = instance.runtime.restarts
        await instance.shutdown()
        if restarts > 0 { progress("  the provider's runner died \(restarts) time(s) during the run; last: \(instance.runtime.lastCrash ?? "?")") }
        let report = partialReport(durationMs: Self.milliseconds(ContinuousClock.now - clock))
        let failedVerbs = report.verbs.filter { $0.outcome == .failed || $0.outcome == .untested }.map(\.verb)
        progress(
            report.passed
                ? "PASSED: every claimed verb passed; every unclaimed verb answered UNSUPPORTED"
                : "FAILED: \(failedVerbs.isEmpty ? "see the failed cases" : "verbs " + failedVerbs.joined(separator: ", "))"
        )
        return report
    }

    private func record(_ result: CaseResult) { recorded.withLock { $0.results.append(result) } }

    /// The report of what has run so far (the whole report once ``run()`` returned). `interrupted` adds a failed
    /// case saying the run was stopped before the end.
    public func partialReport(interrupted: String? = nil, durationMs: Int? = nil) -> ContractReport {
        let (identity, recordedResults, started) = recorded.withLock { $0 }
        var results = recordedResults
        if let interrupted { results.append(CaseResult(id: "run.interrupted", verbs: [], outcome: .failed, durationMs: 0, message: interrupted)) }
        let manifest =
            identity?.manifest
            ?? ProviderManifest(name: URL(fileURLWithPath: launch.path).lastPathComponent, version: "0.0.0", abi: .init(min: 0, max: 0), verbs: [:])
        let claimed = Set(identity?.supportedVerbs ?? [])
        let verbs = verbResults(results, claimed: claimed, manifest: manifest)
        let passed =
            identity != nil && verbs.allSatisfy { $0.outcome == .passed || $0.outcome == .unsupported } && !results.contains { $0.outcome == .failed }
        let provenance = ContractProvenance(
            providerName: manifest.name, providerVersion: manifest.version, libraryPath: identity?.path ?? launch.path,
            librarySHA256: ProviderIdentity.fileSHA256(launch.path), abiNegotiated: identity?.abiVersion ?? 0, abiRange: manifest.abi,
            suiteVersion: ContractCatalogue.suiteVersion,
            hostABIRange: .init(min: ProviderLibrary.hostABIRange.lowerBound, max: ProviderLibrary.hostABIRange.upperBound),
            manifestNote: identity?.hasManifestNote ?? false
        )
        return ContractReport(
            provenance: provenance, manifest: manifest, startedAt: ISO8601DateFormatter().string(from: started),
            durationMs: durationMs ?? Int(Date().timeIntervalSince(started) * 1000), cases: results, verbs: verbs, passed: passed
        )
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
            results.append(
                CaseResult(
                    id: id, verbs: [verb.wireName], outcome: outcome, durationMs: Self.milliseconds(ContinuousClock.now - started), message: message))
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

    func verbResults(_ results: [CaseResult], claimed: Set<Verb>, manifest: ProviderManifest) -> [VerbResult] {
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
                verb: name, claimed: claimed.contains(verb), contract: manifest.verbs[name]?.contract, outcome: outcome,
                cases: exercising.map(\.id), reason: claimed.contains(verb) ? nil : manifest.unsupported?[name]
            )
        }
    }

    func line(for result: CaseResult) -> String {
        let tag =
            switch result.outcome {
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
