import Foundation
import FoundationNetworking
import HostAPI
import HostStore
import ProviderHost
import ProviderWire
import Testing

/// kill -9 the Host in the middle of a burst of creates, start it again: every row converges to online or failed
/// (with a message) and what each provider owns equals the live rows — nothing leaked.
@Suite(.serialized) struct CrashRecoveryTests {
    struct Backend {
        let name: String
        let library: String
        let options: JSONValue
        let command: JSONValue
    }

    static func backends(state: URL) throws -> [Backend] {
        let agent = TestDatabase.root.appendingPathComponent("Tests/Fixtures/agent.sh").path
        var backends = [
            Backend(
                name: "process", library: HostHarness.productsDirectory.appendingPathComponent("libProviderProcess.so").path,
                options: ["state_dir": .string(state.appendingPathComponent("process").path), "owner": "crash-test", "stop_grace_ms": 500],
                command: ["/bin/sh", .string(agent)]
            )
        ]
        if DockerEnvironment.available {
            let script = try String(contentsOf: TestDatabase.root.appendingPathComponent("Tests/Fixtures/agent-busybox.sh"), encoding: .utf8)
            backends.append(
                Backend(
                    name: "docker", library: DockerEnvironment.library,
                    options: [
                        "socket": .string(DockerEnvironment.socket!), "image": .string(DockerEnvironment.image!), "owner": "crash-test",
                        "network_mode": "host", "restart_policy": "no",
                    ],
                    command: ["/bin/sh", "-c", .string(script)]
                )
            )
        }
        return backends
    }

    @Test func killNineMidBurstConvergesWithNothingLeaked() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("molecule-crash-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: state) }
        let backends = try Self.backends(state: state)
        let conninfo = try await TestDatabase.freshDatabase()
        let port = try HostHarness.freePort()
        let base = "http://127.0.0.1:\(port)"
        let providers = backends.map { backend in
            "  - name: \(backend.name)\n    library: \(backend.library)\n    options: \(String(decoding: try! WireCoding.encode(backend.options), as: UTF8.self))\n"
        }.joined()
        let config = """
            listen: 127.0.0.1:\(port)
            database_url: "\(conninfo)"
            state_dir: \(state.path)
            admin_token: crash-admin
            providers:
            \(providers)sweepers: {interval_ms: 300, provision_timeout_seconds: 25, orphan_grace_seconds: 5}
            """
        let configPath = state.appendingPathComponent("host.yaml").path
        try Data(config.utf8).write(to: URL(fileURLWithPath: configPath))
        let log = state.appendingPathComponent("host.log").path
        func startHost() async throws -> BackgroundProcess { try await BackgroundProcess.host(configPath: configPath, base: base, logFile: log) }
        var host = try await startHost()
        // 20 creates per backend at once; the Host is killed once a third of them have answered.
        let total = 20 * backends.count
        let answered = CountBox()
        let burst = Task {
            await withTaskGroup(of: Void.self) { group in
                for backend in backends {
                    for i in 0..<20 {
                        group.addTask {
                            let body: JSONValue = [
                                "name": .string("\(backend.name)-\(i)"), "provider": .string(backend.name), "config": ["command": backend.command],
                            ]
                            if (try? await Self.post(base + "/workspaces", body)) != nil { answered.increment() }
                        }
                    }
                }
            }
        }
        for _ in 0..<400 where answered.value < total / 3 { try await Task.sleep(for: .milliseconds(5)) }
        host.stop(SIGKILL)
        await burst.value
        host = try await startHost()
        defer { host.stop(SIGTERM) }
        // Converge: every row online or failed (with a message), within the provisioning timeout.
        var rows: [JSONValue] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            rows = try await Self.get(base + "/workspaces").arrayValue ?? []
            if rows.allSatisfy({ ["online", "failed"].contains($0["status"]?.stringValue ?? "") }) { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        let unsettled = rows.filter { !["online", "failed"].contains($0["status"]?.stringValue ?? "") }
        #expect(unsettled.isEmpty, "rows still \(unsettled.map { "\($0["name"]?.stringValue ?? "?"): \($0["status"]?.stringValue ?? "?")" })")
        #expect(rows.filter { $0["status"] == "failed" }.allSatisfy { !($0["last_sample_error"]?.stringValue ?? "").isEmpty })
        #expect(rows.count >= total / 3, "only \(rows.count) rows of \(total) creates")
        // What each provider owns is exactly the online rows.
        for backend in backends {
            let library = try ProviderLibrary.load(path: backend.library, logger: TestDatabase.quiet)
            let view = try ProviderInstance(library: library, configuration: backend.options)
            let owned = Set(
                try await view.call(.listOwned, ListOwnedRequest(), as: ListOwnedResponse.self).resources.filter { $0.kind == .instance }.map(
                    \.workspaceId))
            let online = Set(
                rows.filter { $0["provider"]?.stringValue == backend.name && $0["status"] == "online" }.compactMap { $0["id"]?.stringValue })
            #expect(owned == online, "\(backend.name): leaked \(owned.subtracting(online).sorted()), missing \(online.subtracting(owned).sorted())")
            for id in online { _ = try await view.call(.stop, WorkspaceRef(workspaceId: id), as: StopResponse.self) }
            for id in Set(rows.filter { $0["provider"]?.stringValue == backend.name }.compactMap { $0["id"]?.stringValue }) {
                _ = try? await view.call(.removeStorage, WorkspaceRef(workspaceId: id), as: RemoveStorageResponse.self)
            }
            await view.shutdown()
        }
    }

    @Test func twoHostProcessesOnOneDatabaseRunEachPassOnceAndNeverProvisionTwice() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("molecule-replicas-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: state) }
        let backend = try Self.backends(state: state)[0]
        let conninfo = try await TestDatabase.freshDatabase()
        let binary = HostHarness.productsDirectory.appendingPathComponent("molecule-host").path
        var hosts: [(process: BackgroundProcess, base: String)] = []
        let started = Date()
        for replica in 0..<2 {
            let port = try HostHarness.freePort()
            let config = """
                listen: 127.0.0.1:\(port)
                database_url: "\(conninfo)"
                state_dir: \(state.path)/host-\(replica)
                admin_token: crash-admin
                providers:
                  - name: process
                    library: \(backend.library)
                    options: \(String(decoding: try WireCoding.encode(backend.options), as: UTF8.self))
                sweepers: {interval_ms: 300}
                """
            let path = state.appendingPathComponent("host-\(replica).yaml").path
            try Data(config.utf8).write(to: URL(fileURLWithPath: path))
            let process = try BackgroundProcess.start(
                [binary, "serve", "--config", path], environment: ["LOG_LEVEL": "warning"],
                logFile: state.appendingPathComponent("host-\(replica).log").path
            )
            hosts.append((process, "http://127.0.0.1:\(port)"))
        }
        defer { for host in hosts { host.process.stop(SIGTERM) } }
        for host in hosts {
            var up = false
            for _ in 0..<200 where !up {
                up = (try? await Self.get(host.base + "/health", timeout: 1)) != nil
                if !up { try await Task.sleep(for: .milliseconds(50)) }
            }
            try #require(up, "a replica did not start")
        }
        // A burst of creates, alternating between the two processes.
        let silent: JSONValue = ["command": ["/bin/sh", "-c", "sleep 300"]]
        let ids = await withTaskGroup(of: String?.self) { group in
            for i in 0..<10 {
                let base = hosts[i % 2].base
                group.addTask { try? await Self.post(base + "/workspaces", ["name": .string("burst-\(i)"), "config": silent])["id"]?.stringValue }
            }
            return await group.reduce(into: [String]()) { if let id = $1 { $0.append(id) } }
        }
        #expect(ids.count == 10)
        try await Task.sleep(for: .seconds(3))
        let pool = PostgresPool(conninfo: conninfo, size: 1, logger: TestDatabase.quiet)
        let passes = try await ReconciliationStore(pool: pool).passes(since: started)
        await pool.shutdown()
        // At most one pass per 300 ms slot of the time that actually elapsed (both processes tick every slot).
        let slots = Int(Date().timeIntervalSince(started) * 1000 / 300) + 2
        for sweeper in ["health", "orphans", "provision-timeout", "stale-tokens"] {
            let runs = passes.filter { $0.sweeper == sweeper }
            #expect(Set(runs.map(\.slot)).count == runs.count, "\(sweeper): a tick ran on both processes")
            #expect(runs.count >= 3 && runs.count <= slots, "\(sweeper): \(runs.count) passes for \(slots) slots")
        }
        let library = try ProviderLibrary.load(path: backend.library, logger: TestDatabase.quiet)
        let view = try ProviderInstance(library: library, configuration: backend.options)
        let instances = try await view.call(.listOwned, ListOwnedRequest(), as: ListOwnedResponse.self).resources.filter { $0.kind == .instance }
        #expect(instances.count == 10 && Set(instances.map(\.workspaceId)) == Set(ids), "\(instances.count) instances for 10 workspaces")
        for id in ids { _ = try await view.call(.stop, WorkspaceRef(workspaceId: id), as: StopResponse.self) }
        await view.shutdown()
    }

    static func get(_ url: String, timeout: Double = 10) async throws -> JSONValue {
        var request = URLRequest(url: URL(string: url)!)
        request.setValue("Bearer crash-admin", forHTTPHeaderField: "Authorization")
        request.timeoutInterval = timeout
        let (data, _) = try await URLSession.shared.data(for: request)
        return try WireCoding.decode(JSONValue.self, from: [UInt8](data))
    }

    static func post(_ url: String, _ body: JSONValue) async throws -> JSONValue {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.setValue("Bearer crash-admin", forHTTPHeaderField: "Authorization")
        request.httpBody = Data(try WireCoding.encode(body))
        request.timeoutInterval = 10
        let (data, _) = try await URLSession.shared.data(for: request)
        return try WireCoding.decode(JSONValue.self, from: [UInt8](data))
    }
}

final class CountBox: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}
