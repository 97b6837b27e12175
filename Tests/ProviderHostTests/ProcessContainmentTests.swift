import Crypto
import Foundation
import ProviderHost
import ProviderWire
import Testing

/// The Process provider as a workload runtime, through its real `.so`, in both containment modes: pause that never
/// hangs, stop that leaves nothing (escaped sessions included, across a provider restart), limits with clear
/// failures, a port per workspace and template files before the first start.
@Suite(.serialized) struct ProcessContainmentTests {
    /// `cgroup` needs root (CI runs as root); `session` runs anywhere.
    static let modes: [String] = geteuid() == 0 ? ["cgroup", "session"] : ["session"]

    struct Fixture {
        let state: URL
        let instance: ProviderInstance

        init(_ label: String, options: [String: JSONValue]) async throws {
            state = TestSupport.temporaryDirectory(label)
            chmod(state.path, 0o755)
            let library = try ProviderLibrary.load(path: TestSupport.processProviderPath, logger: TestSupport.quietLogger)
            var configuration = options
            configuration["state_dir"] = .string(state.path)
            configuration["stop_grace_ms"] = configuration["stop_grace_ms"] ?? 500
            instance = try ProviderInstance(library: library, configuration: .object(configuration))
        }

        func provision(_ id: String, _ command: [String], tier: Int? = nil, seed: String? = nil) async throws -> ProvisionResponse {
            try await instance.call(
                .provision, ProvisionRequest(workspaceId: id, tier: tier, command: command, seedArchive: seed), as: ProvisionResponse.self)
        }

        func inspect(_ id: String) async throws -> InspectResponse {
            try await instance.call(.inspect, WorkspaceRef(workspaceId: id), as: InspectResponse.self)
        }

        func stop(_ id: String) async throws {
            _ = try await instance.call(.stop, WorkspaceRef(workspaceId: id), as: StopResponse.self)
        }

        func write(_ id: String, _ path: String, _ bytes: [UInt8]) async throws {
            _ = try await instance.call(
                .writeFile, WriteFileRequest(workspaceId: id, path: path, contentBase64: Data(bytes).base64EncodedString()),
                as: FileWriteResponse.self)
        }

        func read(_ id: String, _ path: String) async throws -> [UInt8] {
            let content = try await instance.call(.readFile, FilePathRequest(workspaceId: id, path: path), as: FileContent.self)
            return [UInt8](Data(base64Encoded: content.contentBase64) ?? Data())
        }

        func files(_ id: String) -> URL { state.appendingPathComponent("workspaces/\(id)/configs") }

        func finish() async {
            await instance.shutdown()
            try? FileManager.default.removeItem(at: state)
        }
    }

    /// Live processes whose command line holds `marker` (zombies do not count).
    static func processes(matching marker: String) -> Int { ProcessProviderTests.processes(matching: marker) }

    // MARK: Pause never hangs

    /// A workload that forks `/bin/sh -c true` in a tight loop and counts each fork in a file: 1000 pause/resume
    /// cycles, none timing out, every cycle's state as asked, files written while paused intact, and the count file
    /// a gap-free sequence (no lost or torn bytes).
    @Test(arguments: modes) func aThousandPauseResumeCyclesOfAForkingWorkload(mode: String) async throws {
        let fixture = try await Fixture("pause-\(mode)", options: ["containment": .string(mode)])
        let id = "cycles-\(mode)"
        let loop = "i=0; while :; do i=$((i+1)); echo $i >> counter; /bin/sh -c true; done"
        _ = try await fixture.provision(id, ["/bin/sh", "-c", loop])
        var written: [String: SHA256.Digest] = [:]
        for cycle in 1...1000 {
            let paused = try await fixture.instance.call(.pause, WorkspaceRef(workspaceId: id), as: InspectResponse.self)
            #expect(paused.state == .paused, "cycle \(cycle): pause answered \(paused.state)")
            if cycle % 100 == 0 {
                let bytes = (0..<4096).map { _ in UInt8.random(in: 0...255) }
                try await fixture.write(id, "data/\(cycle).bin", bytes)
                written["data/\(cycle).bin"] = SHA256.hash(data: bytes)
            }
            let resumed = try await fixture.instance.call(.resume, WorkspaceRef(workspaceId: id), as: InspectResponse.self)
            #expect(resumed.state == .running, "cycle \(cycle): resume answered \(resumed.state)")
            try await Task.sleep(for: .milliseconds(1))  // let it run (and fork) between cycles
        }
        #expect(try await fixture.inspect(id).state == .running)
        _ = try await fixture.instance.call(.pause, WorkspaceRef(workspaceId: id), as: InspectResponse.self)
        for (path, digest) in written { #expect(SHA256.hash(data: try await fixture.read(id, path)) == digest, "\(path) changed") }
        let counter = try String(contentsOf: fixture.files(id).appendingPathComponent("counter"), encoding: .utf8)
        let values = counter.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { Int($0) }
        #expect(values.count > 100, "the workload barely ran: \(values.count) forks")
        #expect(values.enumerated().allSatisfy { $0.element == $0.offset + 1 }, "the count file has a gap or a torn line")
        try await fixture.stop(id)
        await fixture.finish()
    }

    // MARK: Stop leaves nothing

    /// A workload that leaves its session (`setsid`) and double-forks: after stop nothing of it is left, and after
    /// the provider instance that started it is gone (a Host restart) a new instance's stop finds and kills all of it.
    @Test(arguments: modes) func escapedDescendantsDieWithTheWorkspace(mode: String) async throws {
        let fixture = try await Fixture("escape-\(mode)", options: ["containment": .string(mode)])
        for (round, restartFirst) in [(1, false), (2, true)] {
            let marker = "molecule-escape-\(mode)-\(round)-\(UUID().uuidString.prefix(6))"
            let script = "setsid sh -c 'sleep 900; :' \"$0\" & (sh -c 'sleep 900; :' \"$0\" &) ; sh -c 'sleep 900; :' \"$0\"; :"
            let id = "escape-\(round)"
            _ = try await fixture.provision(id, ["/bin/sh", "-c", script, marker])
            var seen = 0
            for _ in 0..<100 where seen < 4 {
                seen = Self.processes(matching: marker)
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(seen >= 4, "the workload did not start its escaping children (\(seen) found)")
            var stopper = fixture.instance
            if restartFirst {
                // The Host dies without stopping anything; the next one stops the workspace it finds recorded.
                await fixture.instance.shutdown()
                let library = try ProviderLibrary.load(path: TestSupport.processProviderPath, logger: TestSupport.quietLogger)
                stopper = try ProviderInstance(
                    library: library,
                    configuration: .object(["state_dir": .string(fixture.state.path), "containment": .string(mode), "stop_grace_ms": 500]))
                #expect(try await stopper.call(.inspect, WorkspaceRef(workspaceId: id), as: InspectResponse.self).state == .running)
            }
            let stopped = try await stopper.call(.stop, WorkspaceRef(workspaceId: id), as: StopResponse.self)
            #expect(stopped.stopped)
            #expect(Self.processes(matching: marker) == 0, "processes of the workspace survived stop")
            _ = try await stopper.call(.removeStorage, WorkspaceRef(workspaceId: id), as: RemoveStorageResponse.self)
            if restartFirst { await stopper.shutdown() }
        }
        try? FileManager.default.removeItem(at: fixture.state)
    }

    // MARK: Limits

    /// A memory hog and a process flood, each in a workspace of a limited tier, hit their limits and end with a
    /// message naming the limit; a third workspace keeps answering files at its normal speed meanwhile.
    @Test(.enabled(if: geteuid() == 0, "cgroup limits need root")) func limitsEndRunawayWorkspacesWithAClearReason() async throws {
        let fixture = try await Fixture(
            "limits", options: ["containment": "cgroup", "tiers": ["1": ["memory_mb": 32, "pids": 64]]])
        _ = try await fixture.provision("calm", ["/bin/sh", "-c", "while :; do sleep 1; done"])
        func fileRoundTrip() async throws -> Duration {
            let start = ContinuousClock.now
            let bytes = (0..<65536).map { _ in UInt8.random(in: 0...255) }
            try await fixture.write("calm", "probe.bin", bytes)
            #expect(try await fixture.read("calm", "probe.bin") == bytes)
            return ContinuousClock.now - start
        }
        var baseline = Duration.zero
        for _ in 0..<5 { baseline = max(baseline, try await fileRoundTrip()) }
        // 200 MB held in a shell variable against 32 MiB; 3000 sleeps against 64 processes (bounded either way).
        _ = try await fixture.provision("hog", ["/bin/sh", "-c", "sleep 1; x=$(head -c 200000000 /dev/zero | tr '\\0' a); sleep 600"], tier: 1)
        _ = try await fixture.provision(
            "flood", ["/bin/sh", "-c", "sleep 1; i=0; while [ $i -lt 3000 ]; do sleep 601 & i=$((i+1)); done; wait"], tier: 1)
        var worst = Duration.zero
        var ended: [String: String] = [:]
        let deadline = ContinuousClock.now + .seconds(60)
        while ended.count < 2 && ContinuousClock.now < deadline {
            worst = max(worst, try await fileRoundTrip())
            for id in ["hog", "flood"] where ended[id] == nil {
                let seen = try await fixture.inspect(id)
                if seen.state == .stopped { ended[id] = seen.failure ?? "stopped without a reason" }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(ended["hog"]?.contains("memory limit 32 MiB exceeded") == true, "hog: \(ended["hog"] ?? "still running")")
        #expect(ended["flood"]?.contains("process limit 64 reached") == true, "flood: \(ended["flood"] ?? "still running")")
        #expect(worst < max(.seconds(1), baseline * 10), "the calm workspace slowed from \(baseline) to \(worst)")
        #expect(try await fixture.inspect("calm").state == .running)
        let diagnosis = try await fixture.instance.call(.diagnose, WorkspaceRef(workspaceId: "calm"), as: DiagnoseResponse.self)
        let containment = diagnosis.stages.first { $0.name == "containment" }
        #expect(containment?.ok == true && containment?.detail?.contains("memory") == true, "diagnose: \(String(describing: containment))")
        for id in ["calm", "hog", "flood"] { try await fixture.stop(id) }
        #expect(Self.processes(matching: "sleep 601") == 0, "the flood's sleeps outlived their workspace")
        await fixture.finish()
    }

    // MARK: Agent environment and templates

    /// Two workspaces get different ports that each can bind, the same variable names, and the seed archive's files
    /// before their command runs (the command checks for them first thing).
    @Test(arguments: modes) func eachWorkspaceGetsItsOwnPortAndItsTemplateBeforeStart(mode: String) async throws {
        let fixture = try await Fixture("ports-\(mode)", options: ["containment": .string(mode), "port_first": 23_500, "port_count": 50])
        let template = TarArchive(entries: [
            .init(path: try RelativePath("config.yaml"), kind: .file, mode: 0o644, contents: Array("name: templated\n".utf8)),
            .init(path: try RelativePath("prompts"), kind: .directory, mode: 0o755),
            .init(path: try RelativePath("prompts/system.md"), kind: .file, mode: 0o644, contents: Array("be brief\n".utf8)),
        ])
        let seed = Data(template.serialized()).base64EncodedString()
        let serve = """
            [ -f config.yaml ] && [ -f prompts/system.md ] && echo "$PORT $HOSTNAME $AGENT_URL" > seen
            exec python3 -c 'import os,socket,time; s=socket.socket(); s.bind(("0.0.0.0", int(os.environ["PORT"]))); s.listen(); time.sleep(600)'
            """
        var ports: [Int] = []
        for id in ["left", "right"] {
            let started = try await fixture.provision(id, ["/bin/sh", "-c", serve], seed: seed)
            #expect(started.seeded == true)
            var seen = ""
            for _ in 0..<100 where seen.isEmpty {
                seen = String(decoding: (try? await fixture.read(id, "seen")) ?? [], as: UTF8.self)
                try await Task.sleep(for: .milliseconds(20))
            }
            let fields = seen.split(whereSeparator: \.isWhitespace).map(String.init)
            #expect(fields.count == 3, "the template was not there before the command ran (seen: \"\(seen)\")")
            guard fields.count == 3, let port = Int(fields[0]) else { continue }
            #expect(fields[1] == "127.0.0.1" && fields[2] == "http://127.0.0.1:\(port)")
            #expect((23_500..<23_550).contains(port))
            ports.append(port)
        }
        #expect(Set(ports).count == 2, "two live workspaces got the same port: \(ports)")
        for port in ports {
            var listening = false
            for _ in 0..<100 where !listening {
                listening = Self.connects(port)
                if !listening { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(listening, "nothing listens on \(port)")
        }
        // The port is the workspace's across restarts, and free again once its storage is removed.
        try await fixture.stop("left")
        _ = try await fixture.provision("left", ["/bin/sh", "-c", "sleep 600"])
        let meta = try String(contentsOf: fixture.state.appendingPathComponent("workspaces/left/meta.json"), encoding: .utf8)
        #expect(meta.contains("\"port\":\(ports.first ?? 0)"))
        for id in ["left", "right"] {
            try await fixture.stop(id)
            _ = try await fixture.instance.call(.removeStorage, WorkspaceRef(workspaceId: id), as: RemoveStorageResponse.self)
        }
        await fixture.finish()
    }

    /// Whether a TCP connection to 127.0.0.1:`port` succeeds.
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
