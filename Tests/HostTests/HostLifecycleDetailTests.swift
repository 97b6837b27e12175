import Foundation
import HostAPI
import HostDispatch
import ProviderWire
import Testing

/// Dispatcher behaviour behind single endpoints: restart's bounded stop retry, plugins, restore, PATCH.
@Suite(.serialized) struct HostLifecycleDetailTests {
    @Test func restartWhoseStopKeepsFailingLogsLeakSuspectThenProvisions() async throws {
        let log = CapturedLog()
        let host = try await HostHarness(
            providers: [ProviderSpec(name: "c-example", library: try ProviderFixtures.cExample(), options: ["unreachable": true])],
            logger: log.logger()
        ) { configuration in
            configuration.restartStopAttempts = 3
            configuration.restartBackoffMs = 50
        }
        defer { Task { await host.stop() } }
        let id = try #require(try await host.request("POST", "/workspaces", json: ["name": "leaky"])["id"]?.stringValue)
        try await host.waitForStatus(id, ["failed"])
        let started = ContinuousClock.now
        let restart = try await host.request("POST", "/workspaces/\(id)/restart")
        #expect(restart.status == 202, "\(restart.text)")
        #expect(ContinuousClock.now - started < .seconds(1), "restart did not answer at once")
        // Three failed stops (50 ms, 100 ms backoff), LEAK-SUSPECT naming the workspace, then a provision that fails.
        let failed = try await host.waitForStatus(id, ["failed"])
        #expect(failed["last_sample_error"]?.stringValue?.contains("UNAVAILABLE") == true)
        let lines = log.all
        #expect(lines.filter { $0.contains("restart.stop failed") && $0.contains(id) }.count == 3, "\(lines.filter { $0.contains("restart") })")
        #expect(lines.contains { $0.contains("LEAK-SUSPECT") && $0.contains(id) && $0.contains("provider=c-example") }, "\(lines)")
    }

    @Test func pluginInstallLandsInTheWorkspaceFilesAndUninstallRemovesIt() async throws {
        let host = try await HostHarness()
        defer { Task { await host.stop() } }
        let created = try await host.request(
            "POST", "/workspaces", json: ["name": "plugged", "config": ["command": ["/bin/sh", "-c", "sleep 300"]]])
        let id = try #require(created["id"]?.stringValue)
        try await host.waitForInstance(id)
        let archive = TarArchive(entries: [.init(path: try RelativePath("plugin.yaml"), kind: .file, mode: 0o644, contents: Array("name: p1\n".utf8))]
        )
        let install = try await host.request(
            "POST", "/workspaces/\(id)/plugins",
            json: ["name": "p1", "archive_base64": .string(Data(archive.serialized()).base64EncodedString()), "restart": false]
        )
        #expect(install.status == 200 && install["status"] == "installed" && install["files"] == 1, "\(install.text)")
        let listed = try await host.request("GET", "/workspaces/\(id)/plugins")
        #expect(listed.text.contains("\"p1\""), "\(listed.text)")
        let file = try await host.request("GET", "/workspaces/\(id)/files/plugins/p1/plugin.yaml")
        #expect(file["content"] == "name: p1\n", "\(file.text)")
        let gzipped = try await host.request("POST", "/workspaces/\(id)/plugins", json: ["name": "p2", "archive_base64": "H4sIAAAAAAAA"])
        #expect(gzipped.status == 400 && gzipped["error"]?.stringValue?.contains("gzip") == true, "\(gzipped.text)")
        let traversal = TarArchive.rawEntry(name: "../evil", contents: [1]) + TarArchive.trailer
        let evil = try await host.request(
            "POST", "/workspaces/\(id)/plugins", json: ["name": "p3", "archive_base64": .string(Data(traversal).base64EncodedString())]
        )
        #expect(evil.status == 400, "\(evil.text)")
        #expect(try await host.request("DELETE", "/workspaces/\(id)/plugins/p1").status == 200)
        #expect(try await host.request("GET", "/workspaces/\(id)/files/plugins/p1/plugin.yaml").status == 404)
        #expect(try await host.request("DELETE", "/workspaces/\(id)/plugins/p1").status == 404)
        #expect(try await host.request("DELETE", "/workspaces/\(id)?purge=true").status == 200)
    }

    @Test func aSnapshotRestoresIntoANewWorkspaceAndPatchChangesFields() async throws {
        let host = try await HostHarness()
        defer { Task { await host.stop() } }
        let command: JSONValue = ["command": ["/bin/sh", "-c", "sleep 300"]]
        let source = try #require(try await host.request("POST", "/workspaces", json: ["name": "source", "config": command])["id"]?.stringValue)
        try await host.waitForInstance(source)
        #expect(try await host.request("PUT", "/workspaces/\(source)/files/notes/state.txt", json: ["content": "carried over"]).status == 200)
        let snapshot = try #require(try await host.request("POST", "/workspaces/\(source)/snapshot")["snapshot_id"]?.stringValue)
        let restored = try await host.request("POST", "/workspaces", json: ["name": "restored", "config": command, "snapshot_id": .string(snapshot)])
        let copy = try #require(restored["id"]?.stringValue)
        var content: JSONValue?
        for _ in 0..<50 where content == nil {
            try await Task.sleep(for: .milliseconds(100))
            content = try await host.request("GET", "/workspaces/\(copy)/files/notes/state.txt")["content"]
        }
        #expect(content == "carried over")
        let patched = try await host.request("PATCH", "/workspaces/\(copy)", json: ["name": "renamed", "tier": 2, "config": ["env": ["A": "1"]]])
        #expect(patched.status == 200 && patched["name"] == "renamed" && patched["tier"] == 2, "\(patched.text)")
        #expect(try await host.request("PATCH", "/workspaces/\(copy)", json: ["tier": 9]).status == 400)
        let missing = try await host.request(
            "POST", "/workspaces", json: ["name": "nosnap", "config": command, "snapshot_id": "snap-does-not-exist"])
        let failed = try await host.waitForStatus(try #require(missing["id"]?.stringValue), ["failed"])
        #expect(failed["last_sample_error"]?.stringValue?.contains("NOT_FOUND") == true, "\(failed.text)")
        for id in [source, copy] { _ = try await host.request("DELETE", "/workspaces/\(id)?purge=true") }
    }
}
