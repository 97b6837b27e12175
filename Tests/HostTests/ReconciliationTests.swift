import Foundation
import HostAPI
import HostDispatch
import HostStore
import ProviderHost
import ProviderWire
import Testing

/// The reconciliation loops against a real database and real processes.
@Suite(.serialized) struct ReconciliationTests {
    static let agent = TestDatabase.root.appendingPathComponent("Tests/Fixtures/agent.sh").path

    static func fast(_ configuration: inout HostConfiguration) {
        configuration.sweepers.intervalMs = 200
        configuration.sweepers.orphanGraceSeconds = 0
        configuration.sweepers.remoteStaleAfterSeconds = 1
    }

    func processSpec(_ state: URL, owner: String) -> ProviderSpec {
        ProviderSpec(
            name: "process", library: HostHarness.productsDirectory.appendingPathComponent("libProviderProcess.so").path,
            options: ["state_dir": .string(state.path), "owner": .string(owner), "stop_grace_ms": 500]
        )
    }

    @Test func timeoutResolutionPrefersTheOverrideThenTheRuntime() {
        var settings = SweeperSettings()
        settings.runtimeProvisionTimeouts = ["slow": 1800]
        #expect(settings.provisionTimeout(runtime: "slow") == 1800)
        #expect(settings.provisionTimeout(runtime: "other") == 600)
        settings.provisionTimeoutOverride = 30
        #expect(settings.provisionTimeout(runtime: "slow") == 30)
    }

    @Test func provisioningPastItsRuntimeTimeoutFailsWithAMessage() async throws {
        let host = try await HostHarness { configuration in
            Self.fast(&configuration)
            configuration.sweepers.runtimeProvisionTimeouts = ["impatient": 1]
        }
        defer { Task { await host.stop() } }
        let silent: JSONValue = ["command": ["/bin/sh", "-c", "sleep 300"]]
        let quick = try #require(
            try await host.request("POST", "/workspaces", json: ["name": "q", "runtime": "impatient", "config": silent])["id"]?.stringValue)
        let patient = try #require(try await host.request("POST", "/workspaces", json: ["name": "p", "config": silent])["id"]?.stringValue)
        let failed = try await host.waitForStatus(quick, ["failed"], timeout: .seconds(10))
        #expect(failed["last_sample_error"]?.stringValue?.contains("provisioning timed out after 1 s") == true, "\(failed.text)")
        #expect(try await host.request("GET", "/workspaces/\(patient)")["status"] == "provisioning")
        // The failed workspace keeps no instance, so the stale-token sweep revokes its token.
        let tokens = TokenStore(pool: host.pool)
        var live = true
        for _ in 0..<50 where live {
            live = try await tokens.hasLiveTokenInDatabase(UUID(uuidString: quick)!)
            if live { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(!live, "the timed-out workspace's token was not revoked")
        let liveness = try await host.request("GET", "/admin/liveness")
        #expect(liveness["subsystems"]?["provision-timeout"]?["passes"]?.numberValue ?? 0 >= 1, "\(liveness.text)")
        for id in [quick, patient] { _ = try await host.request("DELETE", "/workspaces/\(id)") }
    }

    @Test func aDeadInstanceTurnsItsWorkspaceOffline() async throws {
        let host = try await HostHarness(configure: Self.fast)
        defer { Task { await host.stop() } }
        let id = try #require(
            try await host.request("POST", "/workspaces", json: ["name": "mortal", "config": ["command": ["/bin/sh", .string(Self.agent)]]])["id"]?
                .stringValue)
        let online = try await host.waitForStatus(id, ["online"])
        let pgid = try #require(online["instance_ref"]?.stringValue?.split(separator: ":").last.flatMap { Int32($0) })
        kill(-pgid, SIGKILL)
        let offline = try await host.waitForStatus(id, ["offline"], timeout: .seconds(10))
        // Never a silent death: the row says how the instance ended.
        #expect(offline["last_sample_error"]?.stringValue?.contains("the process instance ended") == true, "\(offline.text)")
        _ = try await host.request("DELETE", "/workspaces/\(id)")
    }

    @Test func anExternalAgentGoesQuietThenComesBackAndKeepsItsToken() async throws {
        let host = try await HostHarness(configure: Self.fast)
        defer { Task { await host.stop() } }
        let created = try await host.request("POST", "/workspaces", json: ["name": "remote", "runtime": "external"])
        let id = try #require(created["id"]?.stringValue)
        let token = try #require(created["connection"]?["auth_token"]?.stringValue)
        #expect(
            try await host.request("POST", "/registry/register", auth: .token(token), json: ["id": .string(id), "agent_card": [:]]).status == 200)
        try await host.waitForStatus(id, ["online"])
        try await host.waitForStatus(id, ["awaiting_agent"], timeout: .seconds(10))  // stale after 1 s
        try await Task.sleep(for: .milliseconds(600))  // several stale-token passes run meanwhile
        let beat = try await host.request("POST", "/registry/heartbeat", auth: .token(token), json: ["workspace_id": .string(id)])
        #expect(beat.status == 200, "the external workspace's token was revoked: \(beat.text)")
        try await host.waitForStatus(id, ["online"])
    }

    @Test func orphansAreReapedButNotAnotherOwnersAndDryRunOnlyReports() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("molecule-orphans-\(UUID().uuidString.prefix(6))")
        defer { try? FileManager.default.removeItem(at: state) }
        let library = try ProviderLibrary.load(
            path: HostHarness.productsDirectory.appendingPathComponent("libProviderProcess.so").path, logger: TestDatabase.quiet)
        func direct(_ owner: String) throws -> ProviderInstance {
            try ProviderInstance(library: library, configuration: ["state_dir": .string(state.path), "owner": .string(owner)])
        }
        let ours = try direct("reaper-owner")
        let theirs = try direct("someone-else")
        let orphan = UUID().uuidString.lowercased()
        let foreign = UUID().uuidString.lowercased()
        _ = try await ours.call(.provision, ProvisionRequest(workspaceId: orphan, command: ["sleep", "300"]), as: ProvisionResponse.self)
        _ = try await theirs.call(.provision, ProvisionRequest(workspaceId: foreign, command: ["sleep", "300"]), as: ProvisionResponse.self)
        // Dry run: reported, left alone.
        let dry = try await HostHarness(providers: [processSpec(state, owner: "reaper-owner")]) { configuration in
            Self.fast(&configuration)
            configuration.sweepers.orphanDryRun = true
        }
        try await Task.sleep(for: .milliseconds(800))
        #expect(try await ours.call(.inspect, WorkspaceRef(workspaceId: orphan), as: InspectResponse.self).state == .running)
        await dry.stop()
        // Live: the orphan (no row) is stopped and its storage removed; the other owner's workspace is untouched.
        let live = try await HostHarness(providers: [processSpec(state, owner: "reaper-owner")], configure: Self.fast)
        defer { Task { await live.stop() } }
        var owned: [OwnedResource] = []
        for _ in 0..<50 {
            owned = try await ours.call(.listOwned, ListOwnedRequest(), as: ListOwnedResponse.self).resources
            if owned.isEmpty { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(owned.isEmpty, "orphan not reaped: \(owned)")
        #expect(try await theirs.call(.inspect, WorkspaceRef(workspaceId: foreign), as: InspectResponse.self).state == .running)
        _ = try await theirs.call(.stop, WorkspaceRef(workspaceId: foreign), as: StopResponse.self)
        let metrics = try await live.request("GET", "/metrics", auth: .none)
        #expect(metrics.text.contains("molecule_orphans_total"), "orphans are not counted in /metrics")
    }
}
