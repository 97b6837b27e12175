import Foundation
import HostAPI
import ProviderWire
import Testing

/// Every route declares who may call it, and the declaration is what the Host enforces.
@Suite struct RouteAccessTests {
    /// Each route of Hummingbird's router is in the access table and the other way round: a route added around the
    /// table (with no declared principal) fails this test.
    @Test func everyRouteHasADeclaredPrincipal() async throws {
        let host = try await HostHarness()
        defer { Task { await host.stop() } }
        let declared = Set(host.server.routeAccess.map { "\($0.method) \(HostServer.routerForm($0.path))" })
        // Hummingbird prints a capture as {id}; the table's router form is :id.
        let registered = Set(
            host.server.registeredRoutes.map {
                "\($0.method) \($0.path.replacingOccurrences(of: "{", with: ":").replacingOccurrences(of: "}", with: ""))"
            })
        #expect(registered.count > 25)
        #expect(registered.subtracting(declared).isEmpty, "routes without a declared principal: \(registered.subtracting(declared).sorted())")
        #expect(declared.subtracting(registered).isEmpty, "declared but not routed: \(declared.subtracting(registered).sorted())")
        for route in host.server.routeAccess {
            #expect(["open", "admin", "workspace", "registry"].contains(route.access), "\(route.method) \(route.path): \(route.access)")
        }
        // What is open is exactly this list: opening a route by mistake fails here.
        let open = Set(host.server.routeAccess.filter { $0.access == "open" }.map { "\($0.method) \($0.path)" })
        #expect(open == ["get /health", "get /buildinfo", "get /metrics", "get /openapi.yaml"])
    }

    /// Every route answers a caller without the principal it declares with 401 (no token) or 403 (the wrong token),
    /// before any handler runs.
    @Test func everyRouteEnforcesItsPrincipal() async throws {
        let host = try await HostHarness()
        defer { Task { await host.stop() } }
        func create(_ name: String) async throws -> String {
            let created = try await host.request("POST", "/workspaces", json: ["name": .string(name), "config": ["command": ["/bin/sleep", "30"]]])
            let id = try #require(created["id"]?.stringValue, "\(created.text)")
            try await host.waitForInstance(id)
            return id
        }
        let mine = try await create("mine")
        let theirs = try await create("theirs")
        let myToken = try #require(try await host.request("GET", "/admin/workspaces/\(mine)/test-token")["auth_token"]?.stringValue)
        let body: JSONValue = ["id": .string(theirs), "workspace_id": .string(theirs), "agent_card": ["name": "x"]]
        var checked = 0
        for route in host.server.routeAccess where route.access != "open" {
            let path = route.path.replacingOccurrences(of: "{id}", with: theirs).replacingOccurrences(of: "{path}", with: "a.txt")
                .replacingOccurrences(of: "{name}", with: "x")
            let method = route.method.uppercased()
            let json: JSONValue? = ["POST", "PUT", "PATCH"].contains(method) ? body : nil
            let anonymous = try RawClient.status(host, method, path, token: nil, json: json)
            #expect(anonymous.status == 401, "\(method) \(route.path) without a token: \(anonymous.status) \(anonymous.text)")
            let wrong = try RawClient.status(host, method, path, token: myToken, json: json)
            #expect(wrong.status == 403, "\(method) \(route.path) with another workspace's token: \(wrong.status) \(wrong.text)")
            checked += 1
        }
        #expect(checked > 20)
        // Nothing moved: both workspaces still run.
        for id in [mine, theirs] {
            #expect(try await host.request("GET", "/workspaces/\(id)")["status"]?.stringValue != "removed")
        }
    }
}
