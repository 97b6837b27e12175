import Foundation
import FoundationNetworking
import HostAPI
import HostDispatch
import ProviderWire
import Testing

/// The embedded default as a runtime, through the HTTP API: the README's two examples (the reference agent online and
/// staying online; a plain command running past the provision timeout), templates and ports, limits surfacing as
/// failed-with-a-reason, pause/resume over HTTP, and nothing of a workspace left after a Host kill -9 and delete.
@Suite(.serialized) struct WorkloadRuntimeTests {
    /// The Process provider as the Host embeds it by default: no command configured, so the reference agent.
    static func embeddedProcess(_ state: URL, _ extra: [String: JSONValue] = [:]) -> ProviderSpec {
        var options: [String: JSONValue] = ["state_dir": .string(state.appendingPathComponent("process").path), "stop_grace_ms": 1000]
        options.merge(extra) { _, new in new }
        return ProviderSpec(
            name: "process", library: HostHarness.productsDirectory.appendingPathComponent("libProviderProcess.so").path, options: .object(options))
    }

    /// Runs `body` against a Host with the embedded Process provider, and stops it (and every workload) afterwards.
    static func withHost(
        _ extra: [String: JSONValue] = [:], configure: @escaping (inout HostConfiguration) -> Void = { _ in },
        _ body: (HostHarness) async throws -> Void
    ) async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("molecule-runtime-\(UUID().uuidString.prefix(8))")
        let host = try await HostHarness(providers: [embeddedProcess(state, extra)]) { configuration in
            configuration.sweepers.intervalMs = 200
            configure(&configuration)
        }
        func finish() async {
            await host.stop()
            HostHarness.killWorkloads(under: state.appendingPathComponent("process"))
            try? FileManager.default.removeItem(at: state)
        }
        do { try await body(host) } catch {
            await finish()
            throw error
        }
        await finish()
    }

    // MARK: The README's examples

    /// `POST /workspaces {"name":"hello"}` is online within 5 s and stays online past a 3 s provision timeout; the
    /// agent answers A2A `message/send` with an echo and its heartbeats' `runtime_metadata` shows on GET. The plain
    /// command (`"agent": false`) is `running` and stays so past the timeout.
    @Test func theReadmeExamplesWorkAsWritten() async throws {
        try await Self.withHost(configure: { $0.sweepers.provisionTimeoutOverride = 3 }) { host in
            let hello = try await host.request(
                "POST", "/workspaces", json: ["name": "hello", "config": ["env": ["MOLECULE_AGENT_HEARTBEAT_MS": "300"]]])
            #expect(hello.status == 201)
            let helloId = try #require(hello["id"]?.stringValue)
            let plain = try await host.request(
                "POST", "/workspaces", json: ["name": "plain", "agent": false, "config": ["command": ["/bin/sh", "-c", "echo hi; sleep 3600"]]])
            #expect(plain.status == 201)
            let plainId = try #require(plain["id"]?.stringValue)
            let online = try await host.waitForStatus(helloId, ["online", "failed"], timeout: .seconds(5))
            #expect(online["status"] == "online", "hello: \(online.text)")
            try await host.waitForStatus(plainId, ["running", "failed"], timeout: .seconds(5))
            try await Task.sleep(for: .seconds(4))  // past the provision timeout
            let later = try await host.request("GET", "/workspaces/\(helloId)")
            #expect(later["status"] == "online", "hello after the timeout: \(later.text)")
            #expect(later["runtime_metadata"]?["capabilities"]?["heartbeat"] == .bool(true), "runtime_metadata: \(later.text)")
            #expect(try await host.request("GET", "/workspaces/\(plainId)")["status"] == "running")
            // The agent's registered URL answers A2A.
            let url = try #require(later["url"]?.stringValue ?? later["agent_card"]?["url"]?.stringValue)
            let message: JSONValue = [
                "jsonrpc": "2.0", "id": 7, "method": "message/send",
                "params": ["message": ["role": "user", "messageId": "m1", "parts": [["kind": "text", "text": "ping from the test"]]]],
            ]
            var request = URLRequest(url: URL(string: url)!)
            request.httpMethod = "POST"
            request.httpBody = Data(try WireCoding.encode(message))
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            let (data, _) = try await URLSession.shared.data(for: request)
            let answer = try WireCoding.decode(JSONValue.self, from: [UInt8](data))
            #expect(answer["result"]?["parts"]?.arrayValue?.first?["text"] == "ping from the test", "A2A answer: \(answer)")
            // Plain workloads need a command; an unknown template is named.
            let noCommand = try await host.request("POST", "/workspaces", json: ["name": "x", "agent": false])
            #expect(noCommand.status == 400 && noCommand.text.contains("config.command"))
        }
    }

    // MARK: Templates and ports

    /// Two workspaces from one template: `GET /templates` lists it, each workspace has its files before its command
    /// runs, gets its own port and can bind it; a missing template is a 400 naming it.
    @Test func workspacesFromOneTemplateGetItsFilesAndTheirOwnPorts() async throws {
        let templates = FileManager.default.temporaryDirectory.appendingPathComponent("molecule-templates-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: templates.appendingPathComponent("starter/prompts"), withIntermediateDirectories: true)
        try Data("name: starter\n".utf8).write(to: templates.appendingPathComponent("starter/config.yaml"))
        try Data("be brief\n".utf8).write(to: templates.appendingPathComponent("starter/prompts/system.md"))
        defer { try? FileManager.default.removeItem(at: templates) }
        try await Self.withHost(["port_first": 24_600, "port_count": 20], configure: { $0.templatesDir = templates.path }) { host in
            let listed = try await host.request("GET", "/templates")
            #expect(listed.json?.arrayValue?.first?["name"] == "starter" && listed.json?.arrayValue?.first?["files"] == 2, "\(listed.text)")
            let missing = try await host.request("POST", "/workspaces", json: ["name": "m", "template": "nope"])
            #expect(missing.status == 400 && missing.text.contains("nope"), "\(missing.text)")
            let serve = """
                [ -f config.yaml ] && [ -f prompts/system.md ] && echo "$PORT" > seen
                exec python3 -c 'import os,socket,time; s=socket.socket(); s.bind(("0.0.0.0", int(os.environ["PORT"]))); s.listen(); time.sleep(600)'
                """
            var ports: [Int] = []
            for name in ["one", "two"] {
                let created = try await host.request(
                    "POST", "/workspaces",
                    json: ["name": .string(name), "template": "starter", "agent": false, "config": ["command": ["/bin/sh", "-c", .string(serve)]]])
                let id = try #require(created["id"]?.stringValue, "\(created.text)")
                try await host.waitForStatus(id, ["running", "failed"])
                var seen: String?
                for _ in 0..<100 where seen == nil {
                    seen = try await host.request("GET", "/workspaces/\(id)/files/seen")["content"]?.stringValue
                    if seen == nil { try await Task.sleep(for: .milliseconds(30)) }
                }
                let port = try #require(seen.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }, "template files missing at start")
                ports.append(port)
                #expect(try await host.request("GET", "/workspaces/\(id)")["template"] == "starter")
            }
            #expect(Set(ports).count == 2, "ports: \(ports)")
            for port in ports {
                var listening = false
                for _ in 0..<100 where !listening {
                    listening = Self.connects(port)
                    if !listening { try await Task.sleep(for: .milliseconds(30)) }
                }
                #expect(listening, "nothing listens on \(port)")
            }
        }
    }

    // MARK: Limits

    /// A memory hog and a process flood in a limited tier end `failed` with the limit named; a third workspace keeps
    /// answering files meanwhile.
    @Test(.enabled(if: geteuid() == 0, "cgroup limits need root")) func limitHitsAreFailuresWithTheirReason() async throws {
        try await Self.withHost(["containment": "cgroup", "tiers": ["1": ["memory_mb": 32, "pids": 64]]]) { host in
            func create(_ name: String, tier: Int, _ script: String) async throws -> String {
                let created = try await host.request(
                    "POST", "/workspaces",
                    json: [
                        "name": .string(name), "tier": .number(Double(tier)), "agent": false,
                        "config": ["command": ["/bin/sh", "-c", .string(script)]],
                    ])
                return try #require(created["id"]?.stringValue, "\(created.text)")
            }
            let calm = try await create("calm", tier: 2, "while :; do sleep 1; done")
            try await host.waitForStatus(calm, ["running"])
            let hog = try await create("hog", tier: 1, "x=$(head -c 200000000 /dev/zero | tr '\\0' a); sleep 600")
            let flood = try await create("flood", tier: 1, "i=0; while [ $i -lt 3000 ]; do sleep 602 & i=$((i+1)); done; wait")
            for _ in 0..<20 {
                let start = ContinuousClock.now
                let put = try await host.request("PUT", "/workspaces/\(calm)/files/probe.txt", json: ["content": "still here"])
                #expect(put.status == 200)
                #expect(try await host.request("GET", "/workspaces/\(calm)/files/probe.txt")["content"] == "still here")
                #expect(ContinuousClock.now - start < .seconds(2), "the calm workspace's files slowed down")
                try await Task.sleep(for: .milliseconds(100))
            }
            let hogRow = try await host.waitForStatus(hog, ["failed"], timeout: .seconds(30))
            #expect(hogRow["last_sample_error"]?.stringValue?.contains("memory limit 32 MiB exceeded") == true, "\(hogRow.text)")
            let floodRow = try await host.waitForStatus(flood, ["failed"], timeout: .seconds(30))
            #expect(floodRow["last_sample_error"]?.stringValue?.contains("process limit 64 reached") == true, "\(floodRow.text)")
            #expect(try await host.request("GET", "/workspaces/\(calm)")["status"] == "running")
            #expect(ProcessProviderTestsShared.processes(matching: "sleep 602") == 0, "the flood outlived its failed workspace")
        }
    }

    // MARK: Pause over HTTP

    /// 200 pause/resume cycles through the API of a workload that forks in a tight loop: every call answers, the
    /// status follows, and a file written before is unchanged after.
    @Test func twoHundredPauseResumeCyclesOverHTTP() async throws {
        try await Self.withHost { host in
            let created = try await host.request(
                "POST", "/workspaces",
                json: ["name": "cycler", "agent": false, "config": ["command": ["/bin/sh", "-c", "while :; do /bin/sh -c true; done"]]])
            let id = try #require(created["id"]?.stringValue)
            try await host.waitForStatus(id, ["running"])
            let payload = (0..<2048).map { _ in "abcdefghijklmnopqrstuvwxyz".randomElement()! }.map(String.init).joined()
            #expect(try await host.request("PUT", "/workspaces/\(id)/files/keep.txt", json: ["content": .string(payload)]).status == 200)
            for cycle in 1...200 {
                let paused = try await host.request("POST", "/workspaces/\(id)/pause")
                #expect(paused.status == 200, "cycle \(cycle): pause \(paused.status) \(paused.text)")
                let resumed = try await host.request("POST", "/workspaces/\(id)/resume")
                #expect(resumed.status == 200 && resumed["status"] == "running", "cycle \(cycle): resume \(resumed.status) \(resumed.text)")
            }
            #expect(try await host.request("GET", "/workspaces/\(id)")["status"] == "running")
            #expect(try await host.request("GET", "/workspaces/\(id)/files/keep.txt")["content"]?.stringValue == payload)
        }
    }

    // MARK: kill -9, restart, delete

    /// A workload that escapes its session; the Host is killed with SIGKILL, started again, and the workspace
    /// deleted: no process of it remains.
    @Test func nothingOfAWorkspaceOutlivesAHostKillAndDelete() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("molecule-kill-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: state) }
        let conninfo = try await TestDatabase.freshDatabase()
        let port = try HostHarness.freePort()
        let base = "http://127.0.0.1:\(port)"
        let library = HostHarness.productsDirectory.appendingPathComponent("libProviderProcess.so").path
        let config = """
            listen: 127.0.0.1:\(port)
            database_url: "\(conninfo)"
            state_dir: \(state.path)
            admin_token: crash-admin
            providers:
              - name: process
                library: \(library)
                options: {state_dir: \(state.path)/process, stop_grace_ms: 500}
            sweepers: {interval_ms: 300}
            """
        let configPath = state.appendingPathComponent("host.yaml").path
        try Data(config.utf8).write(to: URL(fileURLWithPath: configPath))
        func startHost() async throws -> BackgroundProcess {
            try await BackgroundProcess.host(configPath: configPath, base: base, logFile: state.appendingPathComponent("host.log").path)
        }
        var host = try await startHost()
        let marker = "molecule-killed-host-\(UUID().uuidString.prefix(6))"
        let script = "setsid sh -c 'sleep 900; :' \"$0\" & (sh -c 'sleep 900; :' \"$0\" &) ; sh -c 'sleep 900; :' \"$0\"; :"
        let created = try await CrashRecoveryTests.post(
            base + "/workspaces", ["name": "escaper", "agent": false, "config": ["command": ["/bin/sh", "-c", .string(script), .string(marker)]]])
        let id = try #require(created["id"]?.stringValue)
        var seen = 0
        for _ in 0..<200 where seen < 4 {
            seen = ProcessProviderTestsShared.processes(matching: marker)
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(seen >= 4, "the workload's children did not start (\(seen))")
        host.stop(SIGKILL)
        host = try await startHost()
        defer { host.stop(SIGTERM) }
        var request = URLRequest(url: URL(string: base + "/workspaces/\(id)")!)
        request.httpMethod = "DELETE"
        request.setValue("Bearer crash-admin", forHTTPHeaderField: "Authorization")
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(ProcessProviderTestsShared.processes(matching: marker) == 0, "processes of the deleted workspace survived")
    }

    static func connects(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

/// `/proc` scans shared by the runtime tests.
enum ProcessProviderTestsShared {
    /// Live processes whose command line holds `marker` (zombies do not count).
    static func processes(matching marker: String) -> Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { Int($0) != nil }.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), !stat.contains(") Z ")
            else { return false }
            return String(decoding: data, as: UTF8.self).contains(marker)
        }.count
    }
}
