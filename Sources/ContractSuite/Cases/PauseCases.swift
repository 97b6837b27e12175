import Foundation
import ProviderHost
import ProviderWire

/// The `pause` profile.
extension ContractCatalogue {
    static let pause: [ContractCase] = [
        ContractCase(
            "pause.resume", "pause -> paused (twice OK) -> resume -> running (twice OK)", profile: .pause, exercises: [.pause, .resume],
            requires: [.provision, .inspect, .pause, .resume]
        ) {
            run in
            let id = run.newWorkspaceId("pause")
            try await run.provision(id)
            try await run.waitForState(id, [.running], "after provision")
            let paused: InspectResponse = try await run.ok(.pause, WorkspaceRef(workspaceId: id))
            try run.expect(paused.state == .paused, "pause answered \(paused.state.rawValue)")
            try await run.waitForState(id, [.paused], "after pause")
            let _: InspectResponse = try await run.ok(.pause, WorkspaceRef(workspaceId: id))
            let resumed: InspectResponse = try await run.ok(.resume, WorkspaceRef(workspaceId: id))
            try run.expect(resumed.state == .running, "resume answered \(resumed.state.rawValue)")
            try await run.waitForState(id, [.running], "after resume")
            let _: InspectResponse = try await run.ok(.resume, WorkspaceRef(workspaceId: id))
            try await run.expectError(.notFound, .pause, WorkspaceRef(workspaceId: run.newWorkspaceId("never")), "pause of an unknown workspace")
            _ = try await run.stop(id)
        }
    ]
}
