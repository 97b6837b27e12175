import ContractSuite
import Foundation
import HostAPI
import HostDispatch
import ProviderHost
import ProviderWire
import Testing

/// The Docker provider against a real engine (scripts/test starts a private dockerd and sets DOCKER_HOST and
/// MOLECULE_TEST_IMAGE). The engine's own view is checked through its API, not only the provider's answers.
enum DockerEnvironment {
    static let environment = ProcessInfo.processInfo.environment
    static var socket: String? { environment["DOCKER_HOST"].map { $0.hasPrefix("unix://") ? String($0.dropFirst(7)) : $0 } }
    static var image: String? { environment["MOLECULE_TEST_IMAGE"] }
    static var available: Bool { socket != nil && image != nil }
    static var library: String { HostHarness.productsDirectory.appendingPathComponent("libProviderDocker.so").path }

    /// GET on the engine API (the tests' independent view).
    static func engine(_ path: String, socket: String? = socket) throws -> JSONValue? {
        let result = CommandRunner.run(["curl", "-s", "--unix-socket", socket ?? "", "http://localhost/v1.41\(path)"])
        return try? WireCoding.decode(JSONValue.self, from: Array(result.output.utf8))
    }

    static func engineDelete(_ path: String) {
        _ = CommandRunner.run(["curl", "-s", "-X", "DELETE", "--unix-socket", socket ?? "", "http://localhost/v1.41\(path)"])
    }

    static func labelled(_ kind: String, owner: String) throws -> [JSONValue] {
        let filter = "%7B%22label%22%3A%5B%22molecule.owner%3D\(owner)%22%5D%7D"
        let path = kind == "containers" ? "/containers/json?all=true&filters=\(filter)" : "/\(kind)?filters=\(filter)"
        let answer = try engine(path)
        if kind == "volumes", case .array(let items)? = answer?["Volumes"] { return items }
        if case .array(let items)? = answer { return items }
        return []
    }
}

@Suite(.serialized, .enabled(if: DockerEnvironment.available, "needs DOCKER_HOST and MOLECULE_TEST_IMAGE (scripts/test starts a private dockerd)"))
struct DockerProviderTests {
    @Test func contractSuitePassesAndLeavesNothingBehind() async throws {
        let owner = "docker-test-\(UUID().uuidString.prefix(8).lowercased())"
        let path = TestDatabase.root.appendingPathComponent("examples/contract/docker.yaml").path
        var configuration = try ContractConfiguration.load(path: path)
        guard case .object(var config) = configuration.config else { throw HarnessError("docker.yaml has no config") }
        config["owner"] = .string(owner)
        configuration.config = .object(config)
        configuration.pauseCycles = 3  // the CLI run in scripts/test does every cycle
        configuration.snapshotCycles = 2
        let report = await ContractRunner(launch: ProviderLaunch(path: DockerEnvironment.library), configuration: configuration).run()
        let failed = report.cases.filter { $0.outcome == .failed }
        #expect(report.passed && failed.isEmpty, "\(failed)")
        #expect(report.verbs.allSatisfy { $0.outcome == .passed }, "\(report.verbs.filter { $0.outcome != .passed })")
        // The engine's view: no container or volume of this owner; the snapshot images are kept by design.
        #expect(try DockerEnvironment.labelled("containers", owner: owner).isEmpty)
        #expect(try DockerEnvironment.labelled("volumes", owner: owner).isEmpty)
        let snapshots = try DockerEnvironment.labelled("images/json", owner: owner)
        #expect(!snapshots.isEmpty, "no snapshot image of the owner: the snapshot cases made some")
        for image in snapshots { if let id = image["Id"]?.stringValue { DockerEnvironment.engineDelete("/images/\(id)?force=true") } }
    }

    @Test func containersAndVolumesCarryTheOwnershipLabels() async throws {
        let owner = "docker-labels-\(UUID().uuidString.prefix(8).lowercased())"
        let library = try ProviderLibrary.load(path: DockerEnvironment.library, logger: TestDatabase.quiet)
        let instance = try ProviderInstance(
            library: library,
            configuration: [
                "socket": .string(DockerEnvironment.socket!), "image": .string(DockerEnvironment.image!), "owner": .string(owner),
                "network_mode": "host",
            ]
        )
        let id = UUID().uuidString.lowercased()
        let started = try await instance.call(
            .provision, ProvisionRequest(workspaceId: id, command: ["sleep", "300"], token: "t0k3n"), as: ProvisionResponse.self)
        let container = try #require(try DockerEnvironment.engine("/containers/\(started.instanceRef)/json"))
        let short = String(id.replacingOccurrences(of: "-", with: "").prefix(12))
        #expect(container["Name"] == .string("/ws-\(short)"))
        #expect(container["Config"]?["Labels"]?["molecule.workspace_id"] == .string(id))
        #expect(container["Config"]?["Labels"]?["molecule.owner"] == .string(owner))
        #expect(container["Config"]?["Labels"]?["molecule.managed"] == "true")
        let volume = try #require(try DockerEnvironment.engine("/volumes/ws-\(short)-configs"))
        #expect(volume["Labels"]?["molecule.owner"] == .string(owner))
        let token = try await instance.call(.readFile, FilePathRequest(workspaceId: id, path: ".auth_token"), as: FileContent.self)
        #expect(Data(base64Encoded: token.contentBase64) == Data("t0k3n".utf8))
        _ = try await instance.call(.stop, WorkspaceRef(workspaceId: id), as: StopResponse.self)
        _ = try await instance.call(.removeStorage, WorkspaceRef(workspaceId: id), as: RemoveStorageResponse.self)
        #expect(try DockerEnvironment.labelled("containers", owner: owner).isEmpty)
        #expect(try DockerEnvironment.labelled("volumes", owner: owner).isEmpty)
        await instance.shutdown()
    }

    @Test func hostEndToEndWithAContainerAgent() async throws {
        let agent = try String(contentsOf: TestDatabase.root.appendingPathComponent("Tests/Fixtures/agent-busybox.sh"), encoding: .utf8)
        let host = try await HostHarness(providers: [
            ProviderSpec(
                name: "docker", library: DockerEnvironment.library,
                options: [
                    "socket": .string(DockerEnvironment.socket!), "image": .string(DockerEnvironment.image!), "network_mode": "host",
                    "restart_policy": "no",
                ]
            )
        ])
        defer { Task { await host.stop() } }
        let created = try await host.request(
            "POST", "/workspaces", json: ["name": "in-a-container", "config": ["command": ["/bin/sh", "-c", .string(agent)]]])
        let id = try #require(created["id"]?.stringValue, "\(created.text)")
        try await host.waitForStatus(id, ["online"], timeout: .seconds(60))
        #expect(try await host.request("POST", "/workspaces/\(id)/pause").status == 200)
        let short = String(id.replacingOccurrences(of: "-", with: "").prefix(12))
        #expect(try DockerEnvironment.engine("/containers/ws-\(short)/json")?["State"]?["Status"] == "paused")
        #expect(try await host.request("POST", "/workspaces/\(id)/resume").status == 200)
        try await host.waitForStatus(id, ["online"])
        let before = try await host.request("GET", "/workspaces/\(id)")["instance_ref"]
        #expect(try await host.request("POST", "/workspaces/\(id)/restart").status == 202)
        var after = try await host.waitForStatus(id, ["online"], timeout: .seconds(60))
        for _ in 0..<100 where after["instance_ref"] == before || after["instance_ref"] == nil {
            try await Task.sleep(for: .milliseconds(100))
            after = try await host.waitForStatus(id, ["online"])
        }
        #expect(after["instance_ref"] != before)
        let log = try await host.request("GET", "/workspaces/\(id)/boot-log")
        #expect(log["content"]?.stringValue?.contains("register ok") == true, "\(log.text)")
        #expect(try await host.request("DELETE", "/workspaces/\(id)?purge=true").status == 200)
        let gone = try DockerEnvironment.engine("/containers/ws-\(short)/json")
        #expect(gone?["Id"] == nil, "the container survived delete")
    }

    @Test func engineOutageIsUnavailableQuicklyAndRecovers() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("molecule-dockerd-\(UUID().uuidString.prefix(6))").path
        let script = TestDatabase.root.appendingPathComponent("scripts/dockerd-private").path
        let started = CommandRunner.run([script, "start", directory])
        try #require(started.status == 0, "\(started.output)")
        defer { _ = CommandRunner.run([script, "stop", directory]) }
        let socket = directory + "/docker.sock"
        let library = try ProviderLibrary.load(path: DockerEnvironment.library, logger: TestDatabase.quiet)
        let instance = try ProviderInstance(library: library, configuration: ["socket": .string(socket), "image": "molecule-test:busybox"])
        _ = try await instance.call(.describe, [String: String](), as: DescribeResponse.self)
        let pid = try String(contentsOfFile: directory + "/dockerd.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = CommandRunner.run(["kill", pid])
        for _ in 0..<40 where FileManager.default.fileExists(atPath: "/proc/\(pid)") { try await Task.sleep(for: .milliseconds(250)) }
        let clock = ContinuousClock.now
        for verb in [Verb.describe, .provision] {
            let request: [UInt8] = verb == .describe ? Array("{}".utf8) : try WireCoding.encode(ProvisionRequest(workspaceId: "down-1"))
            do {
                _ = try await instance.call(verb, request: request)
                Issue.record("\(verb) succeeded with the engine down")
            } catch {
                #expect(error.status == .unavailable && error.retryable, "\(verb): \(error)")
            }
        }
        #expect(ContinuousClock.now - clock < .seconds(5), "UNAVAILABLE was not quick")
        _ = CommandRunner.run([script, "stop", directory])
        try #require(CommandRunner.run([script, "start", directory]).status == 0)
        let back = try await instance.call(.describe, [String: String](), as: DescribeResponse.self)
        #expect(back.name == "docker")
        await instance.shutdown()
    }
}
