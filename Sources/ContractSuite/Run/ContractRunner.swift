import Foundation
import ProviderHost
import ProviderWire
import Synchronization

/// Drives one provider library through the catalogue, through its `.so` and the C ABI, and reports.
///
/// The provider runs in a runner process (unless the launch says in-process), so whatever it does — crash, `exit`,
/// hang past its deadline, close descriptors — the suite survives it: that case FAILS with the reason, the runner is
/// restarted for the next one, and a report is always produced. After every case the runner asks `list_owned` what
/// is still running: an instance a case did not stop is a leak, and fails that case.
public final class ContractRunner: Sendable {
    public let launch: ProviderLaunch
    public let configuration: ContractConfiguration
    /// The cases to run: `--filter` terms (a case id, an id prefix such as `files.`, or a tag) and `--profile` ids.
    public let selection: ContractSelection
    /// Stop at the first failed case (the rest are reported not run).
    public let failFast: Bool
    /// The report's column name (default: the provider's name).
    public let label: String?
    /// Receives one line per case as it finishes.
    public let progress: @Sendable (String) -> Void
    private let recorded = Mutex<(identity: ProviderIdentity?, results: [CaseResult], started: Date)>((nil, [], Date()))

    public init(
        launch: ProviderLaunch,
        configuration: ContractConfiguration,
        selection: ContractSelection = ContractSelection(),
        failFast: Bool = false,
        label: String? = nil,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        var launch = launch
        launch.defaultTimeout = .milliseconds(configuration.verbTimeoutMs)
        launch.runner.passEnvironment += configuration.passEnvironment
        launch.runner.setEnvironment.merge(configuration.setEnvironment) { _, new in new }
        self.launch = launch
        self.configuration = configuration
        self.selection = selection
        self.failFast = failFast
        self.label = label
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
            record(
                CaseResult(
                    id: "load", profile: ContractProfile.lifecycle.id, verbs: [], outcome: .failed,
                    durationMs: Self.milliseconds(ContinuousClock.now - clock), message: error.description))
            progress("FAILED: \(error.description)")
            return partialReport()
        }
        let identity = instance.identity
        recorded.withLock { $0.identity = identity }
        let run = ContractRun(instance: instance, launch: launch, identity: identity, configuration: configuration, owner: owner, runId: runId)
        let claimed = Set(identity.supportedVerbs)
        progress(
            "contract suite \(ContractCatalogue.suiteVersion): provider \(identity.manifest.name) \(identity.manifest.version) (ABI \(identity.abiVersion).\(identity.abiMinor)) "
                + "from \(identity.path), \(launch.isolation == .process ? "in a runner process" : "in process")"
                + (selection.isEmpty ? "" : "; only \(selection.description)")
        )

        let plan = ContractCatalogue.cases.map { contractCase in (contractCase, applicability(of: contractCase, identity: identity, claimed: claimed))
        }
        let total = plan.filter { $0.1 == nil }.count
        var done = 0
        var spent = Duration.zero
        var stopped = false
        for (contractCase, reason) in plan {
            let result: CaseResult
            if let reason {
                result = Self.result(contractCase, reason.outcome, message: reason.message)
            } else if stopped {
                result = Self.result(contractCase, .notRun, message: "not run: an earlier case failed (--fail-fast)")
            } else {
                let caseStarted = ContinuousClock.now
                result = await runCase(contractCase, run: run, claimed: claimed)
                spent += ContinuousClock.now - caseStarted
                done += 1
                stopped = failFast && result.outcome == .failed
            }
            record(result)
            if result.outcome == .passed || result.outcome == .failed {
                let eta = done < total ? ", ETA \(Self.seconds(spent / done * (total - done)))" : ""
                progress("[\(done)/\(total)\(eta)] " + line(for: result))
            } else if result.outcome == .notApplicable {
                progress("[n/a] " + line(for: result))
            }
        }
        let closing = stopped ? [] : await unsupportedResults(run: run, claimed: claimed)
        for result in closing + [await cleanUp(run: run, claimed: claimed)] {
            record(result)
            progress(line(for: result))
        }
        let restarts = instance.runtime.restarts
        await instance.shutdown()
        if restarts > 0 { progress("  the provider's runner died \(restarts) time(s) during the run; last: \(instance.runtime.lastCrash ?? "?")") }
        let report = partialReport(durationMs: Self.milliseconds(ContinuousClock.now - clock))
        let failedProfiles = report.profiles.filter { $0.outcome == .failed }.map(\.id)
        let passedProfiles = report.profiles.filter { $0.outcome == .passed }.map(\.id)
        progress(
            report.passed
                ? (passedProfiles.isEmpty ? "PASSED: every selected case" : "PASSED: profiles \(passedProfiles.joined(separator: ", "))")
                    + (report.complete ? "; every unclaimed verb answered UNSUPPORTED" : " (a selection: no conformance claim)")
                : "FAILED: " + (failedProfiles.isEmpty ? "see the failed cases" : "profiles \(failedProfiles.joined(separator: ", "))")
        )
        return report
    }

    /// Why a case does not run (not applicable, or not selected), or nil when it runs.
    func applicability(of contractCase: ContractCase, identity: ProviderIdentity, claimed: Set<Verb>) -> (outcome: CaseOutcome, message: String)? {
        if !selection.selects(contractCase) { return (.notRun, "not selected (\(selection.description))") }
        let missing = contractCase.requires.filter { !claimed.contains($0) }
        if !missing.isEmpty { return (.notApplicable, "the manifest does not claim \(missing.map(\.wireName).joined(separator: ", "))") }
        let undeclared = contractCase.features.filter { !identity.manifest.declares($0) }
        if !undeclared.isEmpty {
            return (.notApplicable, "the manifest does not declare the feature \(undeclared.map(\.rawValue).joined(separator: ", "))")
        }
        return nil
    }

    private func record(_ result: CaseResult) { recorded.withLock { $0.results.append(result) } }

    static func result(_ contractCase: ContractCase, _ outcome: CaseOutcome, durationMs: Int = 0, message: String? = nil) -> CaseResult {
        CaseResult(
            id: contractCase.id, profile: contractCase.profile.id, tags: contractCase.tags, verbs: contractCase.exercises.map(\.wireName),
            outcome: outcome, durationMs: durationMs, message: message)
    }

    /// The report of what has run so far (the whole report once ``run()`` returned). `interrupted` adds a failed
    /// case saying the run was stopped before the end.
    public func partialReport(interrupted: String? = nil, durationMs: Int? = nil) -> ContractReport {
        let (identity, recordedResults, started) = recorded.withLock { $0 }
        var results = recordedResults
        if let interrupted {
            results.append(
                CaseResult(
                    id: "run.interrupted", profile: ContractProfile.lifecycle.id, verbs: [], outcome: .failed, durationMs: 0, message: interrupted))
        }
        let manifest =
            identity?.manifest
            ?? ProviderManifest(name: URL(fileURLWithPath: launch.path).lastPathComponent, version: "0.0.0", abi: .init(min: 0, max: 0), verbs: [:])
        let claimed = Set(identity?.supportedVerbs ?? [])
        let verbs = ContractVerdicts.verbs(results, claimed: claimed, manifest: manifest, complete: selection.isEmpty)
        let profiles = ContractVerdicts.profiles(results, claimed: claimed)
        let passed =
            identity != nil && !results.contains { $0.outcome == .failed } && !profiles.contains { $0.outcome == .failed }
            && results.contains { $0.outcome == .passed }
            && (!selection.isEmpty || verbs.allSatisfy { $0.outcome == .passed || $0.outcome == .unsupported })
        let provenance = ContractProvenance(
            providerName: manifest.name, providerVersion: manifest.version, libraryPath: identity?.path ?? launch.path,
            librarySHA256: ProviderIdentity.fileSHA256(launch.path), abiNegotiated: identity?.abiVersion ?? 0, abiRange: manifest.abi,
            suiteVersion: ContractCatalogue.suiteVersion, hostVersion: MoleculeHostVersion.current,
            hostABIRange: .init(min: ProviderLibrary.hostABIRange.lowerBound, max: ProviderLibrary.hostABIRange.upperBound),
            manifestNote: identity?.hasManifestNote ?? false, features: manifest.features ?? []
        )
        return ContractReport(
            label: label ?? manifest.name, provenance: provenance, manifest: manifest, startedAt: ISO8601DateFormatter().string(from: started),
            durationMs: durationMs ?? Int(Date().timeIntervalSince(started) * 1000), selection: selection.terms, profiles: profiles, cases: results,
            verbs: verbs, passed: passed
        )
    }

    func runCase(_ contractCase: ContractCase, run: ContractRun, claimed: Set<Verb>) async -> CaseResult {
        let started = ContinuousClock.now
        var failure: String?
        do { try await contractCase.body(run) } catch { failure = "\(error)" }
        if claimed.contains(.listOwned), let leak = await run.stopLeakedInstances() {
            failure = failure.map { "\($0); \(leak)" } ?? leak
        }
        return Self.result(
            contractCase, failure == nil ? .passed : .failed, durationMs: Self.milliseconds(ContinuousClock.now - started), message: failure)
    }

    /// Every unclaimed verb must answer exactly UNSUPPORTED.
    func unsupportedResults(run: ContractRun, claimed: Set<Verb>) async -> [CaseResult] {
        var results: [CaseResult] = []
        for verb in Verb.allCases where !claimed.contains(verb) {
            let id = "unsupported.\(verb.wireName)"
            let tags = [ContractProfile.lifecycle.id, "unsupported", verb.wireName]
            guard selection.selects(id: id, profile: ContractProfile.lifecycle, tags: tags) else { continue }
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
                    id: id, profile: ContractProfile.lifecycle.id, tags: tags, verbs: [verb.wireName], outcome: outcome,
                    durationMs: Self.milliseconds(ContinuousClock.now - started), message: message))
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
            id: "cleanup.nothing-left", profile: ContractProfile.lifecycle.id, tags: [ContractProfile.lifecycle.id, "cleanup"],
            verbs: claimed.contains(.listOwned) ? [Verb.listOwned.wireName] : [],
            outcome: problems.isEmpty ? .passed : .failed, durationMs: Self.milliseconds(ContinuousClock.now - started),
            message: problems.isEmpty ? nil : problems.joined(separator: "; ")
        )
    }

    func line(for result: CaseResult) -> String {
        let tag =
            switch result.outcome {
            case .passed: "PASS"
            case .failed: "FAIL"
            case .notApplicable: "N/A "
            case .notRun: "SKIP"
            }
        return "\(tag) \(result.id) (\(result.durationMs) ms)" + (result.message.map { ": \($0)" } ?? "")
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    static func seconds(_ duration: Duration) -> String { "\(max(1, Int(duration.components.seconds))) s" }
}
