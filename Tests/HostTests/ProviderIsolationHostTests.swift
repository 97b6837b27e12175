import Foundation
import HostAPI
import HostDispatch
import HostStore
import ProviderWire
import Synchronization
import Testing

/// Every hostile provider loaded beside the Process provider under one Host: the Host keeps serving, Process
/// workspaces keep working, each hostile workspace ends failed with a message naming its fault, and a restarted Host
/// settles without re-driving any of them.
@Suite(.serialized) struct ProviderIsolationHostTests {
    /// Loadable hostile providers: file, manifest name, and what the failed workspace's message must name (nil: its
    /// provision succeeds and the fault stays inside the runner).
    static let loadable: [(file: String, name: String, fault: String?)] = [
        ("segv_verb", "hostile-segv", "SIGSEGV"), ("abort_verb", "hostile-abort", "SIGABRT"), ("exit_verb", "hostile-exit", "exited with status 0"),
        ("blocks_forever", "hostile-block", "DEADLINE_EXCEEDED"), ("body_len_lie", "hostile-bodylen", "body_len"),
        ("closes_fds", "hostile-closefds", "descriptors"), ("huge_strings", "hostile-huge", "UNAVAILABLE: mmmm"),
        ("late_thread", "hostile-late", nil), ("forks_child", "hostile-fork", nil), ("crashing_list_owned", "hostile-listowned", nil),
    ]
    /// Refused at load, with what the refusal must say.
    static let refused: [(file: String, reason: String)] = [
        ("exit_constructor", "exited with status 0"), ("vtable_size_lie", "struct_size 2147483647"), ("lookalike_name", "ASCII"),
        ("long_name", "200 bytes long"), ("slow_constructor", "did not finish within"), ("slow_create", "create"),
    ]

    static func specs(state: URL) throws -> [ProviderSpec] {
        var specs = [
            ProviderSpec(
                name: "process", library: HostHarness.productsDirectory.appendingPathComponent("libProviderProcess.so").path,
                options: ["state_dir": .string(state.appendingPathComponent("process").path), "stop_grace_ms": 500]
            )
        ]
        for hostile in loadable {
            specs.append(
                ProviderSpec(
                    name: hostile.name, library: try ProviderFixtures.hostile(hostile.file), timeoutSeconds: 2, killGraceMs: 500, restartBackoffMs: 50
                )
            )
        }
        for hostile in refused {
            specs.append(
                ProviderSpec(name: hostile.file, library: try ProviderFixtures.hostile(hostile.file), loadTimeoutMs: 2000, createTimeoutMs: 2000))
        }
        return specs
    }

    @Test func everyHostileProviderIsContainedAndARestartSettles() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("molecule-isolation-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: state) }
        let conninfo = try await TestDatabase.freshDatabase()
        let specs = try Self.specs(state: state)
        let host = try await HostHarness(providers: specs, conninfo: conninfo) { $0.sweepers.intervalMs = 300 }

        // /health answers 200 throughout, polled every 50 ms until the test ends.
        let health = HealthProbe()
        let probe = Task { await health.poll(host) }

        let providers = try await host.request("GET", "/admin/providers")
        let refusals = providers["refused"]?.arrayValue?.compactMap(\.stringValue) ?? []
        for hostile in Self.refused {
            #expect(
                refusals.contains { $0.contains(hostile.file) && $0.contains(hostile.reason) },
                "no refusal of \(hostile.file) naming \(hostile.reason): \(refusals)")
        }
        let loaded = Set(providers["providers"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [])
        #expect(loaded == Set(["process"] + Self.loadable.map(\.name)))
        #expect(providers["providers"]?.arrayValue?.allSatisfy { $0["isolation"] == "process" && $0["runner_pid"]?.numberValue != nil } == true)

        // One Process workspace, then one workspace per hostile provider.
        let good = try #require(
            try await host.request("POST", "/workspaces", json: ["name": "good", "config": ["command": ["/bin/sh", "-c", "sleep 300"]]])["id"]?
                .stringValue)
        try await host.waitForInstance(good)
        var ids: [String: String] = [:]
        for hostile in Self.loadable {
            let created = try await host.request("POST", "/workspaces", json: ["name": .string(hostile.name), "provider": .string(hostile.name)])
            #expect(created.status == 201, "\(created.text)")
            ids[hostile.name] = created["id"]?.stringValue
        }
        for hostile in Self.loadable {
            let id = try #require(ids[hostile.name])
            if let fault = hostile.fault {
                let failed = try await host.waitForStatus(id, ["failed"], timeout: .seconds(20))
                let message = failed["last_sample_error"]?.stringValue ?? ""
                #expect(message.contains(fault) && message.contains(hostile.name), "\(hostile.name): \(message.prefix(300))")
                #expect(message.utf8.count <= ProviderBoundsInTests.maxMessageBytes + 512, "\(hostile.name): a \(message.utf8.count)-byte message")
            } else {
                try await host.waitForInstance(id)
            }
            // After each fault the Process workspace still answers files.
            let written = try await host.request("PUT", "/workspaces/\(good)/files/after-\(hostile.name)", json: ["content": .string(hostile.name)])
            #expect(written.status == 200, "\(written.text)")
            let read = try await host.request("GET", "/workspaces/\(good)/files/after-\(hostile.name)")
            #expect(read["content"]?.stringValue == hostile.name, "\(read.text)")
        }
        // The orphan pass keeps running for every provider although one list_owned crashes on every pass.
        try await Task.sleep(for: .seconds(1))
        let liveness = try await host.request("GET", "/admin/liveness")
        let orphans = liveness["subsystems"]?["orphans"]
        #expect((orphans?["passes"]?.numberValue ?? 0) >= 1, "\(liveness.text)")
        #expect(orphans?["last_error"]?.stringValue?.contains("hostile-listowned") == true, "\(liveness.text)")
        let forkId = try #require(ids["hostile-fork"])
        let forkRef = try await host.request("GET", "/workspaces/\(forkId)")["instance_ref"]?.stringValue ?? ""
        let forkChild = try #require(Int32(forkRef))

        probe.cancel()
        await host.stop()
        let stopped = ContinuousClock.now
        while Self.isRunning(forkChild) && ContinuousClock.now - stopped < .seconds(5) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!Self.isRunning(forkChild), "the hostile provider's child outlived the Host's shutdown")

        // A restart on the same database settles: no failed row is driven again, no provision is re-run.
        let restarted = try await HostHarness(providers: specs, conninfo: conninfo) { $0.sweepers.intervalMs = 300 }
        defer { Task { await restarted.stop() } }
        let settleStarted = ContinuousClock.now
        let probeAgain = Task { await health.poll(restarted) }
        try await Task.sleep(for: .seconds(3))
        for hostile in Self.loadable where hostile.fault != nil {
            let row = try await restarted.request("GET", "/workspaces/\(try #require(ids[hostile.name]))")
            #expect(row["status"] == "failed", "\(hostile.name) moved after the restart: \(row.text)")
        }
        let after = try await restarted.request("GET", "/admin/providers")
        for provider in after["providers"]?.arrayValue ?? [] where provider["name"]?.stringValue != "hostile-listowned" {
            #expect(
                provider["restarts"]?.numberValue == 0,
                "runner of \(provider["name"]?.stringValue ?? "?") restarted after the Host restart: \(provider)")
        }
        #expect(ContinuousClock.now - settleStarted < .seconds(30))
        probeAgain.cancel()
        #expect(health.failures.isEmpty, "GET /health failed: \(health.failures.prefix(3))")
        #expect(health.successes > 20)
    }

    @Test func recoveryStopsReDrivingARowWhoseProvisionNeverAnswered() async throws {
        let conninfo = try await TestDatabase.freshDatabase()
        // Short sweeper slots: each Host's recovery pass claims a slot of its own.
        let first = try await HostHarness(conninfo: conninfo) { $0.sweepers.intervalMs = 200 }
        var created: [String] = []
        for name in ["poisoned", "healthy"] {
            let reply = try await first.request(
                "POST", "/workspaces", json: ["name": .string(name), "config": ["command": ["/bin/sh", "-c", "sleep 300"]]])
            let id = try #require(reply["id"]?.stringValue)
            try await first.waitForInstance(id)
            created.append(id)
        }
        let ids = created
        await first.stop()  // also kills the workspaces' processes: recovery will find them absent
        // As a Host that died inside the provider call would leave them: still provisioning (since before this Host
        // started, within the provision timeout), no instance;
        // one has been interrupted three times already.
        let pool = PostgresPool(conninfo: conninfo, size: 1, logger: TestDatabase.quiet)
        defer { Task { await pool.shutdown() } }
        try await pool.run { connection in
            for (id, attempts) in zip(ids, [3, 0]) {
                try connection.query(
                    "UPDATE workspaces SET status = 'provisioning', instance_ref = NULL, provision_attempts = $2, status_changed_at = now() - interval '30 seconds' WHERE id = $1",
                    [.uuid(UUID(uuidString: id)!), .string(String(attempts))]
                )
            }
        }
        let second = try await HostHarness(conninfo: conninfo) { $0.sweepers.intervalMs = 200 }
        defer { Task { await second.stop() } }
        let poisoned = try await second.waitForStatus(ids[0], ["failed"], timeout: .seconds(10))
        #expect(poisoned["last_sample_error"]?.stringValue?.contains("interrupted 3 times") == true, "\(poisoned.text)")
        try await second.waitForInstance(ids[1])
        #expect(try await second.request("GET", "/workspaces/\(ids[1])")["status"] == "provisioning")
    }

    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }
}

/// ProviderHost's message bound, restated (HostTests may not import ProviderHost beyond the dispatcher's types).
enum ProviderBoundsInTests {
    static let maxMessageBytes = 64 << 10
}

/// Polls `GET /health` every 50 ms until cancelled, counting answers.
final class HealthProbe: Sendable {
    private let counts = Mutex<(successes: Int, failures: [String])>((0, []))
    var successes: Int { counts.withLock { $0.successes } }
    var failures: [String] { counts.withLock { $0.failures } }

    func poll(_ host: HostHarness) async {
        while !Task.isCancelled {
            do {
                let reply = try await host.request("GET", "/health", auth: .none)
                counts.withLock { reply.status == 200 ? ($0.successes += 1) : $0.failures.append("HTTP \(reply.status)") }
            } catch {
                if !Task.isCancelled { counts.withLock { $0.failures.append("\(error)") } }
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}
