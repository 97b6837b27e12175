import Foundation
import ProviderHost
import ProviderWire

/// The `diagnose` profile.
extension ContractCatalogue {
    static let diagnose: [ContractCase] = [
        ContractCase(
            "diagnose.stages", "diagnose answers named stages with durations; all pass for a running workspace", profile: .diagnose,
            exercises: [.diagnose],
            requires: [.provision, .diagnose]
        ) {
            run in
            let id = run.newWorkspaceId("diag")
            try await run.provision(id)
            try await run.waitForState(id, [.running], "before diagnose")
            let report: DiagnoseResponse = try await run.ok(.diagnose, WorkspaceRef(workspaceId: id))
            try run.expect(!report.stages.isEmpty, "diagnose answered no stages")
            try run.expect(report.stages.allSatisfy { !$0.name.isEmpty && $0.durationMs >= 0 }, "diagnose stage without a name or duration")
            try run.expect(report.ok, "diagnose of a running workspace failed at \(report.firstFailure ?? "?"): \(report.stages)")
            let unknown: DiagnoseResponse = try await run.ok(.diagnose, WorkspaceRef(workspaceId: run.newWorkspaceId("never")))
            try run.expect(!unknown.ok && unknown.firstFailure != nil, "diagnose of an unknown workspace reported ok")
            _ = try await run.stop(id)
        }
    ]
}
