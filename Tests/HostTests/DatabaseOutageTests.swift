import Foundation
import HostAPI
import HostStore
import ProviderWire
import Testing

/// Killing the database mid-flight yields 503 with a clear message; the Host recovers when it returns.
@Suite(.serialized) struct DatabaseOutageTests {
    @Test func databaseDownIs503AndTheHostRecovers() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("molecule-outage-\(UUID().uuidString.prefix(8))")
        let postgres = try EmbeddedPostgres(stateDirectory: directory.path, logger: TestDatabase.quiet)
        try postgres.start()
        defer {
            postgres.stop()
            try? FileManager.default.removeItem(at: directory)
        }
        let conninfo = try await TestDatabase.freshDatabase(on: postgres)
        let host = try await HostHarness(conninfo: conninfo)
        defer { Task { await host.stop() } }
        #expect(try await host.request("GET", "/workspaces").status == 200)
        postgres.stop()
        let down = try await host.request("GET", "/workspaces")
        #expect(down.status == 503, "\(down.text)")
        #expect(down["code"] == "platform_unavailable")
        #expect(down["error"]?.stringValue?.contains("database is unavailable") == true, "\(down.text)")
        #expect(try await host.request("GET", "/health", auth: .none).status == 200)
        try postgres.start()
        var recovered = 0
        for _ in 0..<50 where recovered == 0 {
            if try await host.request("GET", "/workspaces").status == 200 { recovered = 1 } else { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(recovered == 1, "the Host did not recover after the database returned")
    }
}
