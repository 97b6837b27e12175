import Foundation
import HostAPI
import HostDispatch
import HostStore
import ProviderWire
import Testing

/// The Host against a real PostgreSQL and the real Process provider, over real HTTP, with a real agent script.
@Suite(.serialized) struct HostEndToEndTests {
    static let agent = TestDatabase.root.appendingPathComponent("Tests/Fixtures/agent.sh").path

    func createAgentWorkspace(_ host: HostHarness, name: String) async throws -> String {
        let created = try await host.request(
            "POST", "/workspaces", json: ["name": .string(name), "config": ["command": ["/bin/sh", .string(Self.agent)]]]
        )
        #expect(created.status == 201, "\(created.text)")
        #expect(created["status"] == "provisioning")
        return try #require(created["id"]?.stringValue)
    }

    @Test func fullLifecycleThroughTheAPI() async throws {
        let host = try await HostHarness()
        defer { Task { await host.stop() } }
        let id = try await createAgentWorkspace(host, name: "lifecycle")
        // The agent registers with the token the provider wrote for it, then heartbeats.
        let online = try await host.waitForStatus(id, ["online"])
        #expect(online["agent_card"]?["name"] == "test-agent")
        // error_rate 0.8 → degraded; back to 0 → online.
        let write = try await host.request("PUT", "/workspaces/\(id)/files/error_rate", json: ["content": "0.8"])
        #expect(write.status == 200, "\(write.text)")
        try await host.waitForStatus(id, ["degraded"])
        _ = try await host.request("PUT", "/workspaces/\(id)/files/error_rate", json: ["content": "0"])
        try await host.waitForStatus(id, ["online"])
        // pause → paused (and stays paused: the stopped agent cannot heartbeat); resume → online.
        let paused = try await host.request("POST", "/workspaces/\(id)/pause")
        #expect(paused.status == 200, "\(paused.text)")
        try await Task.sleep(for: .milliseconds(600))
        #expect(try await host.request("GET", "/workspaces/\(id)")["status"] == "paused")
        #expect(try await host.request("POST", "/workspaces/\(id)/resume").status == 200)
        try await host.waitForStatus(id, ["online"])
        // restart answers at once; the workspace goes through provisioning back to online with a new process.
        let before = try await host.request("GET", "/workspaces/\(id)")["instance_ref"]
        let started = ContinuousClock.now
        let restart = try await host.request("POST", "/workspaces/\(id)/restart")
        #expect(restart.status == 202, "\(restart.text)")
        #expect(ContinuousClock.now - started < .seconds(1))
        var after = try await host.waitForStatus(id, ["online"])
        for _ in 0..<100 where after["instance_ref"] == before || after["instance_ref"] == nil {
            try await Task.sleep(for: .milliseconds(50))
            after = try await host.waitForStatus(id, ["online"])
        }
        #expect(after["instance_ref"] != before && after["instance_ref"] != nil, "restart kept the old instance")
        // snapshot, boot log, diagnose.
        let snapshot = try await host.request("POST", "/workspaces/\(id)/snapshot")
        #expect(snapshot.status == 200 && snapshot["snapshot_id"]?.stringValue?.isEmpty == false, "\(snapshot.text)")
        let log = try await host.request("GET", "/workspaces/\(id)/boot-log")
        #expect(log["content"]?.stringValue?.contains("register 200") == true, "\(log.text)")
        let diagnose = try await host.request("GET", "/workspaces/\(id)/terminal/diagnose")
        #expect(diagnose.status == 200 && diagnose["ok"] == true, "\(diagnose.text)")
        // delete → 410, the process is gone, events tell the story.
        let deleted = try await host.request("DELETE", "/workspaces/\(id)")
        #expect(deleted.status == 200, "\(deleted.text)")
        let gone = try await host.request("GET", "/workspaces/\(id)")
        #expect(gone.status == 410)
        #expect(gone["error"] == "workspace removed")
        #expect(try await host.request("GET", "/workspaces/\(id)?include_removed=true")["status"] == "removed")
        let events = try await host.request("GET", "/events/\(id)")
        let types = Set(
            events.json.flatMap { value -> [String]? in
                guard case .array(let items) = value else { return nil }
                return items.compactMap { $0["event_type"]?.stringValue }
            } ?? [])
        #expect(
            types.isSuperset(of: [
                "WORKSPACE_CREATED", "WORKSPACE_PROVISIONED", "WORKSPACE_ONLINE", "WORKSPACE_DEGRADED", "WORKSPACE_PAUSED", "WORKSPACE_REMOVED",
            ]), "\(types)")
    }

    @Test func aWorkspaceTokenOpensOnlyItsOwnWorkspace() async throws {
        let host = try await HostHarness()
        defer { Task { await host.stop() } }
        let a = try await createAgentWorkspace(host, name: "a")
        let b = try await createAgentWorkspace(host, name: "b")
        let tokenA = try #require(try await host.request("GET", "/admin/workspaces/\(a)/test-token")["auth_token"]?.stringValue)
        let routesOfB: [(String, String, JSONValue?)] = [
            ("GET", "/workspaces/\(b)", nil), ("PATCH", "/workspaces/\(b)", ["name": "x"]), ("POST", "/workspaces/\(b)/restart", nil),
            ("POST", "/workspaces/\(b)/pause", nil), ("POST", "/workspaces/\(b)/resume", nil), ("POST", "/workspaces/\(b)/snapshot", nil),
            ("GET", "/workspaces/\(b)/boot-log", nil), ("GET", "/workspaces/\(b)/terminal/diagnose", nil), ("GET", "/workspaces/\(b)/files", nil),
            ("GET", "/workspaces/\(b)/files/x", nil), ("PUT", "/workspaces/\(b)/files/x", ["content": "x"]),
            ("DELETE", "/workspaces/\(b)/files/x", nil),
            ("GET", "/workspaces/\(b)/plugins", nil), ("POST", "/workspaces/\(b)/plugins", ["name": "p", "archive_base64": ""]),
            ("DELETE", "/workspaces/\(b)/plugins/p", nil), ("DELETE", "/workspaces/\(b)", nil),
            ("POST", "/registry/heartbeat", ["workspace_id": .string(b)]), ("POST", "/registry/register", ["id": .string(b), "agent_card": [:]]),
            ("POST", "/registry/update-card", ["workspace_id": .string(b), "agent_card": [:]]),
        ]
        for (method, path, body) in routesOfB {
            let reply = try await host.request(method, path, auth: .token(tokenA), json: body)
            #expect(reply.status == 403 || reply.status == 401, "\(method) \(path) with A's token answered \(reply.status): \(reply.text)")
            let anonymous = try await host.request(method, path, auth: .none, json: body)
            #expect(anonymous.status == 401, "\(method) \(path) without a token answered \(anonymous.status)")
        }
        for (method, path) in [
            ("GET", "/workspaces"), ("POST", "/workspaces"), ("GET", "/events"), ("GET", "/admin/providers"),
            ("GET", "/admin/workspaces/\(a)/test-token"),
        ] {
            let reply = try await host.request(method, path, auth: .token(tokenA), json: method == "POST" ? ["name": "z"] : nil)
            #expect(reply.status == 403, "admin route \(method) \(path) with a workspace token answered \(reply.status)")
        }
        #expect(try await host.request("GET", "/workspaces/\(a)", auth: .token(tokenA)).status == 200)
        #expect(try await host.request("GET", "/workspaces/\(a)", auth: .token("not-a-token")).status == 401)
        #expect(try await host.request("DELETE", "/workspaces/\(a)").status == 200)
        #expect(try await host.request("DELETE", "/workspaces/\(b)").status == 200)
        // A removed workspace's token opens nothing any more (not even from the Host's token cache).
        let afterRemoval = try await host.request("POST", "/registry/heartbeat", auth: .token(tokenA), json: ["workspace_id": .string(a)])
        #expect(afterRemoval.status == 401, "\(afterRemoval.text)")
    }

    @Test func badInputGetsClearErrorsAndChangesNothing() async throws {
        let host = try await HostHarness()
        defer { Task { await host.stop() } }
        let malformed = try await host.request("POST", "/workspaces", rawBody: Data("{not json".utf8))
        #expect(malformed.status == 400 && malformed["code"] == "invalid_json", "\(malformed.text)")
        let wrongType = try await host.request("POST", "/workspaces", json: ["name": 5])
        #expect(wrongType.status == 400 && wrongType["error"]?.stringValue?.contains("name") == true, "\(wrongType.text)")
        let missing = try await host.request("POST", "/workspaces", json: ["role": "x"])
        #expect(missing.status == 400 && missing["error"]?.stringValue?.contains("missing field \"name\"") == true, "\(missing.text)")
        let oversized = try await host.request("POST", "/workspaces", rawBody: Data(repeating: 0x20, count: 2 << 20))
        #expect(oversized.status == 413, "\(oversized.text)")
        #expect(try await host.request("GET", "/workspaces/not-a-uuid").status == 400)
        #expect(try await host.request("GET", "/workspaces/\(UUID().uuidString)").status == 404)
        let badProvider = try await host.request("POST", "/workspaces", json: ["name": "x", "provider": "nowhere"])
        #expect(badProvider.status == 400 && badProvider["error"]?.stringValue?.contains("nowhere") == true, "\(badProvider.text)")
        let list = try await host.request("GET", "/workspaces")
        #expect(list.json == .array([]), "a refused create left a row: \(list.text)")
        let unknownRoute = try await host.request("GET", "/nothing-here")
        #expect(unknownRoute.status == 404 && unknownRoute["code"] == "not_found")
    }

    @Test func providerFailuresAreRecordedAndDeleteRefusesToLie() async throws {
        // The C example configured against an unreachable backend: provision fails, so does stop.
        let cExample = try ProviderFixtures.cExample()
        let host = try await HostHarness(providers: [ProviderSpec(name: "c-example", library: cExample, options: ["unreachable": true])])
        defer { Task { await host.stop() } }
        let created = try await host.request("POST", "/workspaces", json: ["name": "doomed"])
        let id = try #require(created["id"]?.stringValue)
        let failed = try await host.waitForStatus(id, ["failed"])
        #expect(failed["last_sample_error"]?.stringValue?.contains("UNAVAILABLE") == true, "\(failed.text)")
        let delete = try await host.request("DELETE", "/workspaces/\(id)")
        #expect(delete.status == 500 && delete["code"] == "stop_failed", "\(delete.text)")
        #expect(delete["stop_failures"] != nil)
        #expect(try await host.request("GET", "/workspaces/\(id)")["status"] == "failed", "a failed stop marked the row removed")
    }

    @Test func aWorkspaceWhoseProviderIsNotLoadedIsKeptAndAnswers503() async throws {
        let conninfo = try await TestDatabase.freshDatabase()
        let first = try await HostHarness(conninfo: conninfo)
        let created = try await first.request(
            "POST", "/workspaces", json: ["name": "orphan", "config": ["command": ["/bin/sh", "-c", "sleep 300"]]])
        let id = try #require(created["id"]?.stringValue)
        try await first.waitForInstance(id)
        await first.stop()
        // The same database, a Host without the process provider.
        let cExample = try ProviderFixtures.cExample()
        let second = try await HostHarness(providers: [ProviderSpec(name: "c-example", library: cExample)], conninfo: conninfo)
        defer { Task { await second.stop() } }
        for (method, path) in [
            ("POST", "/workspaces/\(id)/pause"), ("GET", "/workspaces/\(id)/files"), ("POST", "/workspaces/\(id)/restart"),
            ("DELETE", "/workspaces/\(id)"),
        ] {
            let reply = try await second.request(method, path)
            #expect(
                reply.status == 503 && reply["error"]?.stringValue?.contains("\"process\"") == true,
                "\(method) \(path): \(reply.status) \(reply.text)")
        }
        let row = try await second.request("GET", "/workspaces/\(id)")
        #expect(row["status"] == "provisioning" && row["provider"] == "process", "the row changed: \(row.text)")
    }

    @Test func externalWorkspaceGetsConnectionInfoAndRegistersWithItsToken() async throws {
        let host = try await HostHarness()
        defer { Task { await host.stop() } }
        let created = try await host.request("POST", "/workspaces", json: ["name": "remote", "runtime": "external"])
        #expect(created.status == 201 && created["status"] == "awaiting_agent", "\(created.text)")
        let id = try #require(created["id"]?.stringValue)
        let token = try #require(created["connection"]?["auth_token"]?.stringValue)
        #expect(try await host.request("POST", "/registry/register", auth: .none, json: ["id": .string(id), "agent_card": [:]]).status == 401)
        let registered = try await host.request(
            "POST", "/registry/register", auth: .token(token), json: ["id": .string(id), "agent_card": ["name": "r"]])
        #expect(
            registered.status == 200 && registered["status"] == "registered" && registered["platform_inbound_secret"]?.stringValue != nil,
            "\(registered.text)")
        let beat = try await host.request("POST", "/registry/heartbeat", auth: .token(token), json: ["workspace_id": .string(id), "error_rate": 0])
        #expect(beat.status == 200 && beat["platform_inbound_secret"] == registered["platform_inbound_secret"])
        #expect(try await host.request("POST", "/workspaces/\(id)/restart")["status"] == "noop")
    }

    @Test func openAPIDocumentListsEveryRoute() async throws {
        let host = try await HostHarness()
        defer { Task { await host.stop() } }
        let served = try await host.request("GET", "/openapi.yaml", auth: .none)
        #expect(served.status == 200)
        let committed = try String(contentsOf: TestDatabase.root.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        #expect(served.text == committed, "docs/openapi.yaml differs from the served document")
        let documented = OpenAPIDocument.operations(in: committed)
        let registered = Set(host.server.routes.map { "\($0.method) \($0.path)" })
        #expect(registered.subtracting(documented).isEmpty, "routes missing from docs/openapi.yaml: \(registered.subtracting(documented).sorted())")
        #expect(documented.subtracting(registered).isEmpty, "documented routes that do not exist: \(documented.subtracting(registered).sorted())")
    }
}
