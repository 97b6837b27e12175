import ContractMutantCatalogue
import ContractSuite
import Foundation
import ProviderHost
import ProviderWire
import Testing

/// The suite's own mutation check: every one-defect provider of `Tests/ContractMutants` (the Process provider's real
/// `.so` behind a wrapper that breaks one promise) must FAIL the suite, in the case meant to catch it; the wrapper
/// without a defect must pass. A mutant that survives means a case that cannot fail — and fails this test.
@Suite(.serialized) struct ContractMutantTests {
    static var mutantLibrary: String { TestSupport.productsDirectory.appendingPathComponent("libContractMutants.so").path }

    static func configuration(_ mutation: Mutation, state: URL) -> ContractConfiguration {
        var configuration = ContractConfiguration(
            config: .object([
                "state_dir": .string(state.path), "stop_grace_ms": .number(2000), "mutation": .string(mutation.rawValue),
            ]),
            unreachable: .object(["state_dir": .string("/dev/null/molecule-unreachable"), "mutation": .string(mutation.rawValue)]),
            workload: .object([
                "command": .array(
                    ["/bin/sh", "-c", "echo workspace $WORKSPACE_ID started; echo contract workload ready; while :; do sleep 1; done"].map(
                        JSONValue.string))
            ]),
            verbTimeoutMs: 30_000
        )
        configuration.pauseCycles = 3
        configuration.snapshotCycles = 2
        return configuration
    }

    static func run(_ mutation: Mutation, selection: ContractSelection) async -> ContractReport {
        let state = TestSupport.temporaryDirectory("mutant")
        defer {
            _ = try? Process.run(
                URL(fileURLWithPath: TestSupport.repositoryRoot.appendingPathComponent("scripts/stop-workloads").path), arguments: [state.path])
            try? FileManager.default.removeItem(at: state)
        }
        return await ContractRunner(
            launch: ProviderLaunch(path: mutantLibrary), configuration: configuration(mutation, state: state), selection: selection
        ).run()
    }

    @Test(arguments: Mutation.allCases.filter { $0 != .none })
    func everyMutantFailsTheCaseMeantToCatchIt(_ mutation: Mutation) async throws {
        let report = await Self.run(mutation, selection: ContractSelection(filters: mutation.killedBy))
        let failed = report.cases.filter { $0.outcome == .failed }.map(\.id)
        #expect(!report.passed, "mutant \(mutation.rawValue) survived: \(report.cases.map { "\($0.id) \($0.outcome.rawValue)" })")
        #expect(
            failed.contains { mutation.killedBy.contains($0) },
            "mutant \(mutation.rawValue) was not caught by \(mutation.killedBy) (failed: \(failed))")
        let ran = report.cases.filter { mutation.killedBy.contains($0.id) }
        #expect(ran.allSatisfy { $0.outcome == .passed || $0.outcome == .failed }, "the killing cases did not run: \(ran)")
    }

    @Test func theWrapperWithoutADefectPassesEveryProfile() async throws {
        let report = await Self.run(.none, selection: ContractSelection())
        #expect(report.passed, "\(report.cases.filter { $0.outcome == .failed }.map { "\($0.id): \($0.message ?? "")" })")
        #expect(report.profiles.allSatisfy { $0.outcome == .passed }, "\(report.profiles.filter { $0.outcome != .passed })")
    }

    @Test func atLeastFifteenMutantsEachNamingItsKiller() {
        let mutants = Mutation.allCases.filter { $0 != .none }
        #expect(mutants.count >= 15)
        let ids = Set(ContractCatalogue.cases.map(\.id))
        for mutant in mutants {
            #expect(!mutant.killedBy.isEmpty && mutant.killedBy.allSatisfy(ids.contains), "\(mutant.rawValue): \(mutant.killedBy)")
        }
    }
}
