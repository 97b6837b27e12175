import Foundation
import HostAPI
import HostStore
import ProviderWire
import Synchronization
import Testing

/// Each attack of the security review, replayed against a real Host: what it is answered, and what survives.
@Suite(.serialized) struct SecurityTests {
    func create(_ host: HostHarness, _ name: String, command: [String] = ["/bin/sleep", "60"], runtime: String? = nil) async throws -> String {
        var body: [String: JSONValue] = ["name": .string(name), "config": ["command": .array(command.map(JSONValue.string))]]
        if let runtime { body["runtime"] = .string(runtime) }
        let created = try await host.request("POST", "/workspaces", json: .object(body))
        let id = try #require(created["id"]?.stringValue, "\(created.text)")
        if runtime == nil { try await host.waitForInstance(id) }
        return id
    }

    func token(_ host: HostHarness, _ id: String) async throws -> String {
        try #require(try await host.request("GET", "/admin/workspaces/\(id)/test-token")["auth_token"]?.stringValue)
    }

    /// A name of white space only — as the API document's `\\S` counts it: form feed, no-break space, U+FEFF — is a 400 on
    /// create and on patch, and a create's name is stored trimmed of it.
    @Test func blankNamesAreRefused() async throws {
        let host = try await HostHarness()
        defer { Task { await host.stop() } }
        for blank in ["\u{0C}", "\u{A0}\t", "\u{FEFF}", " \u{3000} "] {
            let created = try await host.request("POST", "/workspaces", json: ["name": .string(blank)])
            #expect(created.status == 400, "create with \(Array(blank.unicodeScalars)): \(created.status)")
        }
        let id = try await create(host, "blank")
        for blank in ["\u{0C}", "\u{A0}"] {
            let patched = try await host.request("PATCH", "/workspaces/\(id)", json: ["name": .string(blank)])
            #expect(patched.status == 400, "patch with \(Array(blank.unicodeScalars)): \(patched.status)")
        }
        let padded = try await host.request("POST", "/workspaces", json: ["name": "\u{A0}padded\u{0C}"])
        #expect(padded["name"] == "padded", "\(padded.text)")
    }

    @Test func craftedTarsAre4xxAndTheHostServes() async throws {
        let host = try await HostHarness()
        defer { Task { await host.stop() } }
        let id = try await create(host, "tars")
        let token = try await token(host, id)
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/corpus/tar")
        for name in ["pax-length-past-block", "base256-overflow", "traversal", "fifo", "links"] {
            let archive = try Data(contentsOf: corpus.appendingPathComponent(name))
            let reply = try await host.request(
                "POST", "/workspaces/\(id)/plugins", auth: .token(token),
                json: ["name": "evil", "archive_base64": .string(archive.base64EncodedString()), "restart": false])
            #expect(reply.status == 400, "\(name): \(reply.status) \(reply.text)")
            #expect(reply["code"]?.stringValue == "invalid_archive", "\(name): \(reply.text)")
        }
        #expect(try await host.request("GET", "/health", auth: .none).status == 200)
        #expect(try await host.request("GET", "/workspaces/\(id)/plugins", auth: .token(token)).json == .array([]))
        let good = TarArchive(entries: [.init(path: try RelativePath("plugin.yaml"), kind: .file, mode: 0o644, contents: Array("name: ok\n".utf8))])
        let installed = try await host.request(
            "POST", "/workspaces/\(id)/plugins", auth: .token(token),
            json: ["name": "ok", "archive_base64": .string(Data(good.serialized()).base64EncodedString()), "restart": false])
        #expect(installed.status == 200, "\(installed.text)")
    }

    @Test func aPoisonedBeatIs400AndAnotherWorkspacesBeatLands() async throws {
        let host = try await HostHarness()
        defer { Task { await host.stop() } }
        let a = try await create(host, "poisoner", runtime: "external")
        let b = try await create(host, "bystander", runtime: "external")
        let tokenA = try await token(host, a)
        let tokenB = try await token(host, b)
        for poison: JSONValue in [
            ["workspace_id": .string(a), "active_tasks": 2_147_483_648],
            ["workspace_id": .string(a), "current_task": "a\u{0}b"],
            ["workspace_id": .string(a), "sample_error": .string(String(repeating: "x", count: 5000))],
            ["workspace_id": .string(a), "error_rate": 7],
        ] {
            let reply = try await host.request("POST", "/registry/heartbeat", auth: .token(tokenA), json: poison)
            #expect(reply.status == 400, "\(poison): \(reply.status) \(reply.text)")
        }
        // Past the edge (a beat the database refuses): the coalescer drops it and writes the others.
        try host.server.heartbeats.submit(
            .init(
                id: UUID(uuidString: a)!, errorRate: 0, activeTasks: Int.max, uptimeSeconds: 1, currentTask: nil, sampleError: nil,
                wedged: false))
        let started = ContinuousClock.now
        let beat = try await host.request(
            "POST", "/registry/heartbeat", auth: .token(tokenB), json: ["workspace_id": .string(b), "active_tasks": 3, "current_task": "reading"])
        #expect(beat.status == 200, "\(beat.text)")
        var landed = false
        while ContinuousClock.now - started < .seconds(2) {
            if try await host.request("GET", "/workspaces/\(b)")["current_task"]?.stringValue == "reading" {
                landed = true
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(landed, "the bystander's beat did not persist within 2 s")
        // The bad beat may share the bystander's batch and be tried alone just after it: its refusal is counted
        // within the same 2 s, never before the others land.
        while host.server.heartbeats.rejected.load(ordering: .relaxed) == 0, ContinuousClock.now - started < .seconds(2) {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(host.server.heartbeats.rejected.load(ordering: .relaxed) == 1)
        // And beats keep being accepted afterwards.
        let next = try await host.request("POST", "/registry/heartbeat", auth: .token(tokenA), json: ["workspace_id": .string(a)])
        #expect(next.status == 200, "\(next.text)")
    }

    @Test func anonymousRegisterCannotTakeOverAManagedWorkspace() async throws {
        let host = try await HostHarness()
        defer { Task { await host.stop() } }
        let id = try await create(host, "managed")
        let card: JSONValue = ["id": .string(id), "agent_card": ["name": "intruder"]]
        #expect(try RawClient.status(host, "POST", "/registry/register", token: nil, json: card).status == 401)
        // Even with no live token (after a restart revoked it, or the stale-token sweep): never a token for a managed one.
        try await TokenStore(pool: host.pool).revokeAll(UUID(uuidString: id)!)
        let reply = try RawClient.status(host, "POST", "/registry/register", token: nil, json: card)
        #expect(reply.status == 401, "\(reply.text)")
        #expect(!reply.text.contains("auth_token"))
        #expect(try await TokenStore(pool: host.pool).hasLiveTokenInDatabase(UUID(uuidString: id)!) == false)
        let update = try RawClient.status(
            host, "POST", "/registry/update-card", token: nil, json: ["workspace_id": .string(id), "agent_card": ["name": "x"]])
        #expect(update.status == 401, "\(update.text)")
        #expect(try await host.request("GET", "/workspaces/\(id)")["agent_card"]?["name"]?.stringValue != "intruder")
    }

    @Test func anExternalWorkspacesFirstTokenIsIssuedOnce() async throws {
        let host = try await HostHarness()
        defer { Task { await host.stop() } }
        let id = try await create(host, "external", runtime: "external")
        // As if it had never had a token (a workspace created before its agent's first contact).
        _ = try await host.pool.run { connection in
            try connection.query("DELETE FROM workspace_auth_tokens WHERE workspace_id = $1", [.uuid(UUID(uuidString: id)!)])
        }
        let card: JSONValue = ["id": .string(id), "agent_card": ["name": "agent"]]
        let answers = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 { group.addTask { try await host.request("POST", "/registry/register", auth: .none, json: card).status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(answers.filter { $0 == 200 }.count == 1, "\(answers)")
        #expect(answers.filter { $0 == 401 }.count == 3, "\(answers)")
        let live = try await host.pool.run { connection in
            try connection.query("SELECT count(*)::int AS n FROM workspace_auth_tokens WHERE workspace_id = $1", [.uuid(UUID(uuidString: id)!)])
                .first?.int("n")
        }
        #expect(live == 1)
    }

    @Test func aWorkspaceTokenCannotChangeWhatRuns() async throws {
        let host = try await HostHarness()
        defer { Task { await host.stop() } }
        let id = try await create(host, "patched")
        let token = try await token(host, id)
        let before = try await host.request("GET", "/workspaces/\(id)")["config"]
        for body: JSONValue in [
            ["config": ["command": ["/bin/sh", "-c", "id > /tmp/pwned"]]], ["config": ["env": ["LD_PRELOAD": "/tmp/x.so"]]],
            ["config": ["image": "attacker/image"]], ["config": ["options": ["privileged": true]]], ["tier": 1],
            ["name": "renamed", "config": [:]],
        ] {
            let reply = try await host.request("PATCH", "/workspaces/\(id)", auth: .token(token), json: body)
            #expect(reply.status == 403, "\(body): \(reply.status) \(reply.text)")
        }
        #expect(try await host.request("GET", "/workspaces/\(id)")["config"] == before)
        let renamed = try await host.request("PATCH", "/workspaces/\(id)", auth: .token(token), json: ["name": "renamed", "role": "worker"])
        #expect(renamed.status == 200, "\(renamed.text)")
        #expect(renamed["name"]?.stringValue == "renamed")
        let admin = try await host.request("PATCH", "/workspaces/\(id)", json: ["tier": 2, "config": ["command": ["/bin/sleep", "61"]]])
        #expect(admin.status == 200, "\(admin.text)")
    }

    @Test func processWorkloadsRunConfined() async throws {
        setenv("MOLECULE_TEST_HOST_SECRET", "host-only-value", 1)
        let host = try await HostHarness()
        defer { Task { await host.stop() } }
        let a = try await create(host, "victim")
        _ = try await host.request("PUT", "/workspaces/\(a)/files/secret.txt", json: ["content": "victim's secret"])
        let victimFiles = host.stateDirectory.appendingPathComponent("process/workspaces/\(a)/configs").path
        let probe =
            "id -u > uid.txt; env > env.txt; cat \(victimFiles)/secret.txt > stolen.txt 2>&1; cat /proc/\(getpid())/environ > hostenv.txt 2>&1; sleep 60"
        let b = try await create(host, "prober", command: ["/bin/sh", "-c", probe])
        func file(_ name: String) async throws -> String {
            for _ in 0..<100 {
                let reply = try await host.request("GET", "/workspaces/\(b)/files/\(name)")
                if reply.status == 200, let text = reply["content"]?.stringValue, !text.isEmpty { return text }
                try await Task.sleep(for: .milliseconds(50))
            }
            return ""
        }
        let uid = try await file("uid.txt").trimmingCharacters(in: .whitespacesAndNewlines)
        let env = try await file("env.txt")
        let stolen = try await file("stolen.txt")
        let hostEnvironment = try await file("hostenv.txt")
        if geteuid() == 0 {
            #expect(uid != "0" && !uid.isEmpty, "workload uid \(uid)")
            #expect(stolen.contains("Permission denied"), "read another workspace's file: \(stolen)")
            #expect(!hostEnvironment.contains("MOLECULE_TEST_HOST_SECRET"), "read the Host's environment")
        }
        #expect(!env.contains("MOLECULE_TEST_HOST_SECRET"), "the Host's environment leaked into the workload")
        #expect(!env.contains("ADMIN_TOKEN"))
        #expect(env.contains("WORKSPACE_ID=\(b)"))
    }

    @Test func a64MiBUploadIs413WithoutGrowingTheHost() async throws {
        let host = try await HostHarness()
        defer { Task { await host.stop() } }
        let id = try await create(host, "upload")
        func rss() -> Int {
            let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
            return status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        }
        let before = rss()
        let fd = try RawClient.connect(port: URL(string: host.baseURL)!.port!)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        RawClient.send(
            fd,
            "PUT /workspaces/\(id)/files/big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(host.adminToken)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(64 << 20)\r\n\r\n{\"content_base64\":\"")
        let chunk = String(repeating: "A", count: 1 << 20)
        var answer = [UInt8](repeating: 0, count: 4096)
        var received = 0
        for _ in 0..<64 {
            RawClient.send(fd, chunk)
            received = recv(fd, &answer, answer.count, Int32(MSG_DONTWAIT))
            if received > 0 { break }
        }
        if received <= 0 { received = recv(fd, &answer, answer.count, 0) }
        let text = String(decoding: answer.prefix(max(0, received)), as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 413"), "\(text.prefix(200))")
        let growth = (rss() - before) / 1024
        print("64 MiB upload: answered \(text.prefix(12)); Host RSS growth \(growth) MB")
        #expect(growth < 50, "RSS grew \(growth) MB")
        #expect(try await host.request("GET", "/health", auth: .none).status == 200)
    }

    @Test func aSnapshotCarriesNoToken() async throws {
        let host = try await HostHarness()
        defer { Task { await host.stop() } }
        let id = try await create(host, "snap")
        _ = try await host.request("PUT", "/workspaces/\(id)/files/notes.md", json: ["content": "kept"])
        let snapshot = try await host.request("POST", "/workspaces/\(id)/snapshot")
        let snapshotId = try #require(snapshot["snapshot_id"]?.stringValue, "\(snapshot.text)")
        let archiveURL = host.stateDirectory.appendingPathComponent("process/snapshots/\(snapshotId)/archive.tar")
        let archive = try TarArchive(parsing: [UInt8](try Data(contentsOf: archiveURL)), limits: .engine)
        let names = archive.entries.map(\.path.string)
        #expect(names.contains("notes.md"))
        #expect(!names.contains(AgentEnvironment.tokenFileName), "\(names)")
        let token = try await token(host, id)
        #expect(!archive.entries.contains { String(decoding: $0.contents, as: UTF8.self).contains(token) })
        let mode = (try FileManager.default.attributesOfItem(atPath: archiveURL.path)[.posixPermissions] as? Int) ?? 0
        #expect(mode == 0o600, "archive mode \(String(mode, radix: 8))")
    }

    @Test func nulAndInvalidUTF8Are400WithoutSQL() async throws {
        let host = try await HostHarness()
        defer { Task { await host.stop() } }
        let id = try await create(host, "nul")
        for (method, path, body) in [
            ("POST", "/workspaces", Data(#"{"name":"a\u0000b"}"#.utf8)),
            ("PATCH", "/workspaces/\(id)", Data(#"{"config":{"k":"a\u0000"}}"#.utf8)),
            ("POST", "/workspaces", Data([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])),
            ("POST", "/workspaces", Data(#"{"name":"w","config":{"n":1e400}}"#.utf8)),
        ] {
            let reply = try await host.request(method, path, rawBody: body)
            #expect(reply.status == 400, "\(path): \(reply.status) \(reply.text)")
            for leak in ["SQL", "syntax", "jsonb", "invalid byte sequence", "ERROR:"] { #expect(!reply.text.contains(leak), "\(reply.text)") }
        }
    }

    @Test func traceIs405AndOverTheConcurrencyLimitIs429() async throws {
        let host = try await HostHarness { $0.maxConcurrentRequestsPerClient = 1 }
        defer { Task { await host.stop() } }
        let trace = try RawClient.status(host, "TRACE", "/workspaces", token: host.adminToken, json: nil)
        #expect(trace.status == 405, "\(trace.text)")
        #expect(trace.text.lowercased().contains("allow: get, head, post"), "\(trace.text)")
        #expect(try RawClient.status(host, "GET", "/no/such/path", token: nil, json: nil).status == 404)
        // One request in flight (its body never finishes) holds this client's only slot.
        let fd = try RawClient.connect(port: URL(string: host.baseURL)!.port!)
        RawClient.send(
            fd, "POST /workspaces HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(host.adminToken)\r\nContent-Length: 1000\r\n\r\n{\"na")
        try await Task.sleep(for: .milliseconds(300))
        let limited = try RawClient.status(host, "GET", "/workspaces", token: host.adminToken, json: nil)
        #expect(limited.status == 429, "\(limited.text)")
        #expect(limited.text.lowercased().contains("retry-after: 1"))
        close(fd)
        var freed = 0
        for _ in 0..<50 {
            freed = try RawClient.status(host, "GET", "/workspaces", token: host.adminToken, json: nil).status
            if freed == 200 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(freed == 200)
    }

    @Test func revocationReachesAnotherReplicaWithinASecond() async throws {
        let first = try await HostHarness()
        defer { Task { await first.stop() } }
        let conninfo = first.pool.conninfo
        let second = try await HostHarness(conninfo: conninfo)
        defer { Task { await second.stop() } }
        let id = try await create(first, "replicated", runtime: "external")
        let token = try await token(first, id)
        #expect(try await second.request("GET", "/workspaces/\(id)", auth: .token(token)).status == 200)  // cached there now
        try await TokenStore(pool: first.pool).revokeAll(UUID(uuidString: id)!)
        let revoked = ContinuousClock.now
        var refused = false
        while ContinuousClock.now - revoked < .seconds(3) {
            if try await second.request("GET", "/workspaces/\(id)", auth: .token(token)).status == 401 {
                refused = true
                break
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        let elapsed = ContinuousClock.now - revoked
        print("revocation seen by the other replica after \(elapsed)")
        #expect(refused && elapsed < .milliseconds(1500), "still accepted after \(elapsed)")
    }
}
