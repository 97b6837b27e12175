import ContractSuite
import Foundation
import HostAPI
import HostDispatch
import ProviderHost
import ProviderWire
import Testing

/// The EC2 provider against moto_server (the EC2 API) and a private sshd on loopback standing in for every instance.
/// scripts/test starts both and sets AWS_ENDPOINT_URL_EC2, MOLECULE_EC2_SSH_OVERRIDE and MOLECULE_EC2_SSH_KEY. moto's
/// own view is read with the aws CLI, never only through the provider. No address moto hands out is ever dialled.
enum EC2Environment {
    static let environment = ProcessInfo.processInfo.environment
    static var endpoint: String? { environment["AWS_ENDPOINT_URL_EC2"] }
    static var sshOverride: String? { environment["MOLECULE_EC2_SSH_OVERRIDE"] }
    static var sshKey: String? { environment["MOLECULE_EC2_SSH_KEY"] }
    static var available: Bool { endpoint != nil && sshOverride != nil && sshKey != nil }
    static var library: String { HostHarness.productsDirectory.appendingPathComponent("libProviderEC2.so").path }
    /// Connections the sshd accepted so far (its log, next to the client key scripts/sshd-private made).
    static func acceptedConnections() -> Int {
        let log = URL(fileURLWithPath: sshKey ?? "/").deletingLastPathComponent().appendingPathComponent("sshd.log")
        return ((try? String(contentsOf: log, encoding: .utf8)) ?? "").components(separatedBy: "Accepted publickey").count - 1
    }

    /// The sshd's own host key, next to the client key scripts/sshd-private made.
    static var hostKeyFile: String { URL(fileURLWithPath: sshKey ?? "/").deletingLastPathComponent().appendingPathComponent("host_ed25519.pub").path }

    /// A scratch directory for one test: its files roots (one per workspace) and the provider's state.
    static func scratch(_ name: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("molecule-ec2-\(name)-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Provider options for moto + the loopback sshd (static key; root through sudo only to create the files root).
    static func options(owner: String, scratch: URL, endpoint: String? = nil, ssh: [String: JSONValue] = [:], retry: JSONValue? = nil) -> JSONValue {
        var sshOptions: [String: JSONValue] = [
            "mode": "static-key", "user": "root", "sudo": true, "override": .string(sshOverride ?? ""), "key_path": .string(sshKey ?? ""),
        ]
        sshOptions.merge(ssh) { _, new in new }
        var options: [String: JSONValue] = [
            "endpoint": .string(endpoint ?? self.endpoint ?? ""), "region": "us-east-1", "access_key_id": "test", "secret_access_key": "test",
            "owner": .string(owner), "ami": "ami-12c6146b", "instance_type": "t3.micro", "runtime_image": "molecule/workspace:test",
            "state_dir": .string(scratch.appendingPathComponent("state").path), "poll_interval_ms": 100, "wait_for_bootstrap": false,
            "roots": ["default": .string(scratch.appendingPathComponent("files").path + "/{workspace_id}")], "ssh": .object(sshOptions),
        ]
        if let retry { options["retry"] = retry }
        return .object(options)
    }

    static func instance(
        owner: String, scratch: URL, endpoint: String? = nil, ssh: [String: JSONValue] = [:], retry: JSONValue? = nil
    ) throws -> ProviderInstance {
        let library = try ProviderLibrary.load(path: library, logger: TestDatabase.quiet)
        return try ProviderInstance(
            library: library, configuration: options(owner: owner, scratch: scratch, endpoint: endpoint, ssh: ssh, retry: retry))
    }

    /// `aws ec2 …` against moto (the tests' independent view), decoded.
    static func aws(_ arguments: [String]) throws -> JSONValue {
        let result = CommandRunner.run(["aws", "ec2"] + arguments + ["--endpoint-url", endpoint ?? "", "--region", "us-east-1", "--output", "json"])
        guard result.status == 0, let start = result.output.firstIndex(of: "{") else { throw HarnessError("aws ec2 \(arguments): \(result.output)") }
        return try WireCoding.decode(JSONValue.self, from: Array(result.output[start...].utf8))
    }

    /// moto's instances carrying `tag=value`, optionally only in `states`.
    static func instances(tag: String, _ value: String, states: [String] = ["pending", "running", "stopping", "stopped"]) throws -> [JSONValue] {
        let answer = try aws([
            "describe-instances", "--filters", "Name=tag:\(tag),Values=\(value)", "Name=instance-state-name,Values=\(states.joined(separator: ","))",
        ])
        return answer["Reservations"]?.arrayValue?.flatMap { $0["Instances"]?.arrayValue ?? [] } ?? []
    }

    static func volumes(tag: String, _ value: String) throws -> [JSONValue] {
        try aws(["describe-volumes", "--filters", "Name=tag:\(tag),Values=\(value)"])["Volumes"]?.arrayValue ?? []
    }

    /// moto's configs volumes (`molecule:role=configs`) carrying `tag=value`.
    static func configsVolumes(tag: String, _ value: String) throws -> [JSONValue] {
        try volumes(tag: tag, value).filter { self.tag($0, "molecule:role") == "configs" }
    }

    static func tag(_ resource: JSONValue, _ key: String) -> String? {
        resource["Tags"]?.arrayValue?.first { $0["Key"]?.stringValue == key }?["Value"]?.stringValue
    }

    /// The sshd's host key fingerprint as ssh-keygen prints it.
    static func hostKeyFingerprint() -> String {
        CommandRunner.run(["ssh-keygen", "-lf", hostKeyFile, "-E", "sha256"]).output.split(separator: " ").dropFirst().first.map(String.init) ?? "?"
    }
}

/// The fault proxy (Tests/Fixtures/ec2_fault_proxy.py) on loopback in front of moto: its control file injects
/// 500s, throttling or one failing action; its log records every action it saw.
final class EC2FaultProxy: Sendable {
    let directory: URL
    let endpoint: String
    let process: BackgroundProcess

    init() async throws {
        directory = try EC2Environment.scratch("proxy")
        let script = TestDatabase.root.appendingPathComponent("Tests/Fixtures/ec2_fault_proxy.py").path
        let portFile = directory.appendingPathComponent("port").path
        process = try BackgroundProcess.start(
            [
                "/usr/bin/env", "python3", script, EC2Environment.endpoint ?? "", directory.appendingPathComponent("control.json").path,
                directory.appendingPathComponent("requests.log").path, portFile,
            ],
            environment: [:], logFile: directory.appendingPathComponent("proxy.log").path
        )
        var port: String?
        for _ in 0..<100 where port == nil {
            port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { $0.isEmpty ? nil : $0 }
            if port == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        guard let port else { throw HarnessError("the fault proxy did not start") }
        endpoint = "http://127.0.0.1:\(port)"
    }

    func set(_ control: JSONValue) throws {
        try Data(try WireCoding.encode(control)).write(to: directory.appendingPathComponent("control.json"))
    }

    /// The actions seen so far, in order (one line each; JSON APIs carry their body after a tab).
    var requests: [String] {
        ((try? String(contentsOf: directory.appendingPathComponent("requests.log"), encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func clearLog() { try? Data().write(to: directory.appendingPathComponent("requests.log")) }

    func stop() {
        process.stop(SIGTERM)
        try? FileManager.default.removeItem(at: directory)
    }
}

@Suite(.serialized, .enabled(if: EC2Environment.available, "needs moto and a loopback sshd (scripts/test starts both)"))
struct EC2ProviderTests {
    @Test func contractSuitePassesAndLeavesNothingBehind() async throws {
        let owner = "ec2-contract-\(UUID().uuidString.prefix(8).lowercased())"
        let scratch = try EC2Environment.scratch("contract")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var configuration = try ContractConfiguration.load(path: TestDatabase.root.appendingPathComponent("examples/contract/ec2.yaml").path)
        configuration.config = EC2Environment.options(owner: owner, scratch: scratch)
        configuration.pauseCycles = 3  // the CLI run in scripts/test does every cycle
        configuration.snapshotCycles = 2
        let report = await ContractRunner(launch: ProviderLaunch(path: EC2Environment.library), configuration: configuration).run()
        let failed = report.cases.filter { $0.outcome == .failed }
        #expect(report.passed && failed.isEmpty, "\(failed)")
        // Every verb of ABI 1.0 is claimed and proven; the 1.1 verbs (exec, sessions) are not implemented by EC2 yet and
        // must answer exactly UNSUPPORTED.
        let claimed = report.verbs.filter(\.claimed)
        #expect(claimed.allSatisfy { $0.outcome == .passed }, "\(claimed.filter { $0.outcome != .passed })")
        #expect(Set(claimed.map(\.verb)) == Set(Verb.verbs(upToMinor: 0).map(\.wireName)), "the EC2 provider claims \(claimed.map(\.verb))")
        #expect(report.verbs.filter { !$0.claimed }.allSatisfy { $0.outcome == .unsupported })
        #expect(report.verbs.count == Verb.allCases.count)
        // moto's view: nothing of this owner still running, no configs volume left; the snapshot AMIs are kept.
        #expect(try EC2Environment.instances(tag: "molecule:owner", owner).isEmpty)
        #expect(try EC2Environment.configsVolumes(tag: "molecule:owner", owner).isEmpty)
        let images =
            try EC2Environment.aws(["describe-images", "--owners", "self", "--filters", "Name=tag:molecule:owner,Values=\(owner)"])["Images"]?
            .arrayValue ?? []
        #expect(!images.isEmpty, "no snapshot image of the owner: the snapshot cases made some")
        for image in images { if let id = image["ImageId"]?.stringValue { _ = try? EC2Environment.aws(["deregister-image", "--image-id", id]) } }
    }

    @Test func tagsUserDataVolumeAndIdempotentProvisionAsMotoSeesThem() async throws {
        let owner = "ec2-tags-\(UUID().uuidString.prefix(8).lowercased())"
        let scratch = try EC2Environment.scratch("tags")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let instance = try EC2Environment.instance(owner: owner, scratch: scratch)
        defer { Task { await instance.shutdown() } }
        let id = UUID().uuidString.lowercased()
        let request = ProvisionRequest(workspaceId: id, tier: 2, env: ["MODEL": "m1"], token: "t0k3n-ec2", platformUrl: "http://127.0.0.1:9")
        let first = try await instance.call(.provision, request, as: ProvisionResponse.self)
        let second = try await instance.call(.provision, request, as: ProvisionResponse.self)
        #expect(first.instanceRef == second.instanceRef)

        // One instance for two provisions, tagged, with the ClientToken derived from the workspace id.
        let live = try EC2Environment.instances(tag: "molecule:workspace-id", id)
        try #require(live.count == 1, "\(live.count) live instances for one workspace")
        let machine = live[0]
        #expect(machine["InstanceId"]?.stringValue == first.instanceRef)
        #expect(EC2Environment.tag(machine, "molecule:owner") == owner)
        #expect(EC2Environment.tag(machine, "molecule:managed") == "true")
        #expect(machine["ClientToken"]?.stringValue?.hasPrefix("mh-") == true && machine["ClientToken"]?.stringValue?.hasSuffix("-g0") == true)
        // The bootstrap carries the workspace's identity and configs mount — never its token or environment, which
        // arrive over SSH (0600, the agent's uid) in the instance's files root.
        let attribute = try EC2Environment.aws(["describe-instance-attribute", "--instance-id", first.instanceRef, "--attribute", "userData"])
        let userData = String(decoding: Data(base64Encoded: attribute["UserData"]?["Value"]?.stringValue ?? "") ?? Data(), as: UTF8.self)
        #expect(userData.contains("WORKSPACE_ID=\(id)") && userData.contains(":/configs") && userData.contains("--env-file"), "\(userData)")
        #expect(!userData.contains("t0k3n-ec2") && !userData.contains("MODEL=m1"), "a secret is in user-data")
        // The env file also says where the agent listens: the instance's own address and port (known once it runs).
        let address = try #require(first.address, "provision answered no address")
        let network = "A2A_PORT=8000\nAGENT_URL=http://\(address):8000\nHOSTNAME=\(address)\n"
        let environment = network + "MODEL=m1\nPLATFORM_URL=http://127.0.0.1:9\nPORT=8000\nTIER=2\n"
        for (name, content) in [(".auth_token", "t0k3n-ec2"), (".molecule-env", environment)] {
            let path = scratch.appendingPathComponent("files/\(id)/\(name)").path
            #expect(
                FileManager.default.contents(atPath: path) == Data(content.utf8),
                "\(name): \(String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self))")
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600 && (attributes[.ownerAccountID] as? Int) == 1000, "\(name): \(attributes)")
        }
        // The configs volume: tagged, attached at the configured device.
        let volumes = try EC2Environment.configsVolumes(tag: "molecule:workspace-id", id)
        try #require(volumes.count == 1, "\(volumes.count) configs volumes")
        let volumeId = try #require(volumes[0]["VolumeId"]?.stringValue)
        #expect(EC2Environment.tag(volumes[0], "molecule:owner") == owner)
        let attachment = volumes[0]["Attachments"]?.arrayValue?.first
        #expect(attachment?["InstanceId"]?.stringValue == first.instanceRef && attachment?["Device"]?.stringValue == "/dev/sdf", "\(volumes[0])")
        #expect(userData.contains(volumeId.replacingOccurrences(of: "-", with: "")), "the bootstrap does not wait for \(volumeId)")

        // stop terminates; the configs volume survives and is attached to the next instance (restart keeps files).
        let stopped = try await instance.call(.stop, WorkspaceRef(workspaceId: id), as: StopResponse.self)
        #expect(stopped.stopped)
        #expect(try EC2Environment.instances(tag: "molecule:workspace-id", id).isEmpty)
        let terminated = try EC2Environment.instances(tag: "molecule:workspace-id", id, states: ["terminated", "shutting-down"])
        #expect(terminated.map { $0["InstanceId"]?.stringValue } == [first.instanceRef])
        let again = try await instance.call(.provision, request, as: ProvisionResponse.self)
        #expect(again.instanceRef != first.instanceRef)
        let reattached = try EC2Environment.configsVolumes(tag: "molecule:workspace-id", id)
        #expect(reattached.map { $0["VolumeId"]?.stringValue } == [volumeId])
        #expect(reattached.first?["Attachments"]?.arrayValue?.first?["InstanceId"]?.stringValue == again.instanceRef)
        // remove_storage refuses while attached, then deletes once stopped.
        do {
            _ = try await instance.call(.removeStorage, WorkspaceRef(workspaceId: id), as: RemoveStorageResponse.self)
            Issue.record("remove_storage succeeded while the volume is attached")
        } catch {
            #expect(error.status == .conflict, "\(error)")
        }
        _ = try await instance.call(.stop, WorkspaceRef(workspaceId: id), as: StopResponse.self)
        let removed = try await instance.call(.removeStorage, WorkspaceRef(workspaceId: id), as: RemoveStorageResponse.self)
        #expect(removed.removed)
        #expect(try EC2Environment.configsVolumes(tag: "molecule:workspace-id", id).isEmpty)
    }

    @Test func instanceConnectModeSendsTheEphemeralKeyAndRecordsTheHostKey() async throws {
        let proxy = try await EC2FaultProxy()
        defer { proxy.stop() }
        let owner = "ec2-eic-\(UUID().uuidString.prefix(8).lowercased())"
        let scratch = try EC2Environment.scratch("eic")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let instance = try EC2Environment.instance(owner: owner, scratch: scratch, endpoint: proxy.endpoint, ssh: ["mode": "instance-connect"])
        defer { Task { await instance.shutdown() } }
        let id = "eic-\(UUID().uuidString.prefix(8).lowercased())"
        let started = try await instance.call(.provision, ProvisionRequest(workspaceId: id), as: ProvisionResponse.self)
        let report = try await instance.call(.diagnose, WorkspaceRef(workspaceId: id), as: DiagnoseResponse.self)
        let stages = Dictionary(uniqueKeysWithValues: report.stages.map { ($0.name, $0) })
        #expect(report.stages.map(\.name).prefix(4) == ["instance-found", "keygen", "send-ssh-public-key", "connect"], "\(report.stages)")
        #expect(stages["keygen"]?.ok == true && stages["send-ssh-public-key"]?.ok == true && stages["connect"]?.ok == true, "\(report.stages)")
        // moto's Instance Connect installs nothing, so the loopback sshd refuses the ephemeral key: auth is the failure.
        #expect(!report.ok && report.firstFailure == "auth", "\(report.stages)")
        #expect(stages["auth"]?.error?.contains("refused") == true, "\(stages["auth"]?.error ?? "")")
        let sent = proxy.requests.filter { $0.hasPrefix("AWSEC2InstanceConnectService.SendSSHPublicKey") }
        #expect(sent.count == 1, "\(proxy.requests)")
        #expect(sent.first?.contains("\"InstanceId\":\"\(started.instanceRef)\"") == true && sent.first?.contains("ssh-ed25519 ") == true, "\(sent)")
        #expect(sent.first?.contains("\"InstanceOSUser\":\"root\"") == true)
        // Trust on first use: the sshd's real fingerprint is recorded for this instance; stop forgets it.
        let record = scratch.appendingPathComponent("state/host-keys/\(started.instanceRef)")
        let recorded = try String(contentsOf: record, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(recorded == EC2Environment.hostKeyFingerprint())
        _ = try await instance.call(.stop, WorkspaceRef(workspaceId: id), as: StopResponse.self)
        #expect(!FileManager.default.fileExists(atPath: record.path))
        _ = try await instance.call(.removeStorage, WorkspaceRef(workspaceId: id), as: RemoveStorageResponse.self)
    }

    @Test func hostKeysArePinnedOrTrustedOnFirstUseNeverIgnored() async throws {
        let owner = "ec2-hostkey-\(UUID().uuidString.prefix(8).lowercased())"
        let scratch = try EC2Environment.scratch("hostkey")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let id = "hk-\(UUID().uuidString.prefix(8).lowercased())"
        // No session reuse here: every verb connects, so every verb checks the host key.
        let tofu = try EC2Environment.instance(owner: owner, scratch: scratch, ssh: ["idle_session_ms": 0])
        defer { Task { await tofu.shutdown() } }
        let started = try await tofu.call(.provision, ProvisionRequest(workspaceId: id), as: ProvisionResponse.self)
        let write = WriteFileRequest(workspaceId: id, path: "notes/a.txt", contentBase64: Data("hello".utf8).base64EncodedString())
        _ = try await tofu.call(.writeFile, write, as: FileWriteResponse.self)
        #expect(FileManager.default.contents(atPath: scratch.appendingPathComponent("files/\(id)/notes/a.txt").path) == Data("hello".utf8))

        // A changed host key for the same instance is refused, and nothing is read.
        let record = scratch.appendingPathComponent("state/host-keys/\(started.instanceRef)")
        try Data("SHA256:AAAAnotTheRealKeyAAAAAAAAAAAAAAAAAAAAAAAAAA\n".utf8).write(to: record)
        do {
            _ = try await tofu.call(.readFile, FilePathRequest(workspaceId: id, path: "notes/a.txt"), as: FileContent.self)
            Issue.record("read_file succeeded although the host key changed")
        } catch {
            #expect(error.status == .unauthenticated && error.message.contains("changed"), "\(error)")
        }
        try? FileManager.default.removeItem(at: record)

        // A pinned fingerprint: the right one works, a wrong one is refused.
        let pinned = try EC2Environment.instance(
            owner: owner, scratch: scratch, ssh: ["host_key_sha256": .string(EC2Environment.hostKeyFingerprint()), "idle_session_ms": 0]
        )
        defer { Task { await pinned.shutdown() } }
        let read = try await pinned.call(.readFile, FilePathRequest(workspaceId: id, path: "notes/a.txt"), as: FileContent.self)
        #expect(Data(base64Encoded: read.contentBase64) == Data("hello".utf8))
        let wrong = try EC2Environment.instance(
            owner: owner, scratch: scratch, ssh: ["host_key_sha256": "SHA256:wrongwrongwrongwrongwrongwrongwrongwrong123", "idle_session_ms": 0]
        )
        defer { Task { await wrong.shutdown() } }
        do {
            _ = try await wrong.call(.listFiles, ListFilesRequest(workspaceId: id), as: ListFilesResponse.self)
            Issue.record("list_files succeeded with a wrong pinned host key")
        } catch {
            #expect(error.status == .unauthenticated && error.message.contains("pinned"), "\(error)")
        }
        // A link inside the root that points out of it is refused on every files verb.
        let outside = try EC2Environment.scratch("outside")
        defer { try? FileManager.default.removeItem(at: outside) }
        try FileManager.default.createSymbolicLink(
            atPath: scratch.appendingPathComponent("files/\(id)/escape").path, withDestinationPath: outside.path)
        let escape = WriteFileRequest(workspaceId: id, path: "escape/owned.txt", contentBase64: Data("x".utf8).base64EncodedString())
        do {
            _ = try await tofu.call(.writeFile, escape, as: FileWriteResponse.self)
            Issue.record("write_file followed a link out of the files root")
        } catch {
            #expect(error.status == .invalidArgument, "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: outside.appendingPathComponent("owned.txt").path))
        _ = try await tofu.call(.stop, WorkspaceRef(workspaceId: id), as: StopResponse.self)
        _ = try await tofu.call(.removeStorage, WorkspaceRef(workspaceId: id), as: RemoveStorageResponse.self)
    }

    @Test func errorsAndThrottlingAreBoundedRetriesThenUnavailableAndAFailedTerminateIsReported() async throws {
        let proxy = try await EC2FaultProxy()
        defer { proxy.stop() }
        let owner = "ec2-fault-\(UUID().uuidString.prefix(8).lowercased())"
        let scratch = try EC2Environment.scratch("fault")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let instance = try EC2Environment.instance(
            owner: owner, scratch: scratch, endpoint: proxy.endpoint, retry: ["max_attempts": 3, "base_delay_ms": 20, "max_delay_ms": 100]
        )
        defer { Task { await instance.shutdown() } }
        for (mode, code) in [("500", "InternalError"), ("throttle", "RequestLimitExceeded")] {
            try proxy.set(["mode": .string(mode)])
            proxy.clearLog()
            let clock = ContinuousClock.now
            for verb in [Verb.describe, .provision] {
                let request: [UInt8] = verb == .describe ? Array("{}".utf8) : try WireCoding.encode(ProvisionRequest(workspaceId: "fault-\(mode)"))
                do {
                    _ = try await instance.call(verb, request: request)
                    Issue.record("\(verb) succeeded while EC2 answers \(mode)")
                } catch {
                    #expect(error.status == .unavailable && error.retryable, "\(mode) \(verb): \(error)")
                    #expect(error.message.contains(code) && error.message.contains("3 attempts"), "\(error.message)")
                }
            }
            // Exactly 3 attempts per verb: bounded, and no call after the first refused one.
            #expect(proxy.requests.count == 6, "\(mode): \(proxy.requests)")
            #expect(ContinuousClock.now - clock < .seconds(5))
        }
        // A terminate that EC2 refuses is an error, never "stopped"; the instance is still there to retry.
        try proxy.set(["mode": "pass", "fail": ["TerminateInstances": "UnauthorizedOperation"]])
        let id = "fault-stop-\(UUID().uuidString.prefix(6).lowercased())"
        let started = try await instance.call(.provision, ProvisionRequest(workspaceId: id), as: ProvisionResponse.self)
        do {
            _ = try await instance.call(.stop, WorkspaceRef(workspaceId: id), as: StopResponse.self)
            Issue.record("stop answered success although TerminateInstances failed")
        } catch {
            #expect(error.status == .unauthenticated && error.message.contains("UnauthorizedOperation"), "\(error)")
        }
        #expect(try EC2Environment.instances(tag: "molecule:workspace-id", id).map { $0["InstanceId"]?.stringValue } == [started.instanceRef])
        try proxy.set(["mode": "pass"])
        #expect(try await instance.call(.stop, WorkspaceRef(workspaceId: id), as: StopResponse.self).stopped)
        #expect(try EC2Environment.instances(tag: "molecule:workspace-id", id).isEmpty)
        _ = try await instance.call(.removeStorage, WorkspaceRef(workspaceId: id), as: RemoveStorageResponse.self)
    }

    @Test func hostEndToEndOnEC2() async throws {
        let scratch = try EC2Environment.scratch("host")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let owner = "ec2-host-\(UUID().uuidString.prefix(8).lowercased())"
        let host = try await HostHarness(providers: [
            ProviderSpec(name: "ec2", library: EC2Environment.library, options: EC2Environment.options(owner: owner, scratch: scratch))
        ])
        defer { Task { await host.stop() } }
        let created = try await host.request("POST", "/workspaces", json: ["name": "on-ec2", "provider": "ec2"])
        let id = try #require(created["id"]?.stringValue, "\(created.text)")
        try await host.waitForInstance(id, timeout: .seconds(60))
        let instanceRef = try #require(try await host.request("GET", "/workspaces/\(id)")["instance_ref"]?.stringValue)
        let running = try EC2Environment.instances(tag: "molecule:workspace-id", id, states: ["running"])
        #expect(running.map { $0["InstanceId"]?.stringValue } == [instanceRef])

        // Nothing runs inside moto's instance: the test is the agent, with the token the provider wrote over SSH.
        let token = try #require(try? String(contentsOf: scratch.appendingPathComponent("files/\(id)/.auth_token"), encoding: .utf8))
        let registered = try await host.request(
            "POST", "/registry/register", auth: .token(token), json: ["id": .string(id), "agent_card": ["name": "ec2-agent"]])
        #expect(registered.status == 200, "\(registered.text)")
        _ = try await host.request("POST", "/registry/heartbeat", auth: .token(token), json: ["workspace_id": .string(id), "error_rate": 0])
        try await host.waitForStatus(id, ["online"])

        // Files and plugins land in the instance's filesystem (the sshd's), owned by the agent's uid.
        let root = scratch.appendingPathComponent("files/\(id)")
        let saved = try await host.request("PUT", "/workspaces/\(id)/files/skills/notes.md", json: ["content": "# from the API\n"])
        #expect(saved.status == 200, "\(saved.text)")
        #expect(FileManager.default.contents(atPath: root.appendingPathComponent("skills/notes.md").path) == Data("# from the API\n".utf8))
        let plugin = TarArchive(entries: [.init(path: try RelativePath("plugin.yaml"), kind: .file, mode: 0o644, contents: Array("name: p1\n".utf8))])
        let installed = try await host.request(
            "POST", "/workspaces/\(id)/plugins", json: ["name": "p1", "archive_base64": .string(Data(plugin.serialized()).base64EncodedString())]
        )
        #expect((200..<300).contains(installed.status), "\(installed.text)")
        let manifest = root.appendingPathComponent("plugins/p1/plugin.yaml").path
        #expect(FileManager.default.contents(atPath: manifest) == Data("name: p1\n".utf8))
        let owner1000 = (try? FileManager.default.attributesOfItem(atPath: manifest)[.ownerAccountID] as? Int) ?? -1
        #expect(owner1000 == 1000, "plugin file owned by uid \(owner1000)")
        // Installing restarts the workspace (a new instance, like Molecule): the configs volume, and so the plugin, stay.
        #expect(installed["restarting"] == .bool(true), "\(installed.text)")
        var current: String?
        for _ in 0..<200 where current == nil || current == instanceRef {
            try await Task.sleep(for: .milliseconds(50))
            current = try await host.request("GET", "/workspaces/\(id)")["instance_ref"]?.stringValue
        }
        let restarted = try #require(current, "no instance after the restart")
        #expect(restarted != instanceRef)
        let volume = try EC2Environment.configsVolumes(tag: "molecule:workspace-id", id)
        #expect(volume.count == 1 && volume.first?["Attachments"]?.arrayValue?.first?["InstanceId"]?.stringValue == restarted, "\(volume)")
        let listed = try await host.request("GET", "/workspaces/\(id)/plugins")
        #expect(listed.text.contains("\"p1\""), "\(listed.text)")

        // Delete terminates the instance; purge removes the configs volume too.
        #expect(try await host.request("DELETE", "/workspaces/\(id)?purge=true").status == 200)
        #expect(try EC2Environment.instances(tag: "molecule:workspace-id", id).isEmpty, "the instance survived delete")
        let volumes = try EC2Environment.configsVolumes(tag: "molecule:workspace-id", id)
        #expect(volumes.isEmpty, "the configs volume survived a purge")
    }

    /// Reconciliation reaches EC2 through the same dispatcher verbs as every provider: an instance terminated behind
    /// the Host's back turns its workspace offline, and an orphan of our owner (no row) is terminated and its configs
    /// volume deleted, while another owner's instance is left running.
    @Test func reconciliationReapsEC2OrphansAndSeesInstancesDie() async throws {
        let scratch = try EC2Environment.scratch("reconcile")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let owner = "ec2-reaper-\(UUID().uuidString.prefix(8).lowercased())"
        let ours = try EC2Environment.instance(owner: owner, scratch: scratch)
        let theirs = try EC2Environment.instance(owner: owner + "-other", scratch: scratch)
        defer {
            Task {
                await ours.shutdown()
                await theirs.shutdown()
            }
        }
        let orphan = UUID().uuidString.lowercased()
        let foreign = UUID().uuidString.lowercased()
        _ = try await ours.call(.provision, ProvisionRequest(workspaceId: orphan), as: ProvisionResponse.self)
        _ = try await theirs.call(.provision, ProvisionRequest(workspaceId: foreign), as: ProvisionResponse.self)

        let host = try await HostHarness(
            providers: [ProviderSpec(name: "ec2", library: EC2Environment.library, options: EC2Environment.options(owner: owner, scratch: scratch))],
            configure: ReconciliationTests.fast
        )
        defer { Task { await host.stop() } }
        var left: [JSONValue] = []
        for _ in 0..<100 {
            left = try EC2Environment.instances(tag: "molecule:workspace-id", orphan)
            if left.isEmpty { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(left.isEmpty, "the orphan instance was not reaped")
        var volumes: [JSONValue] = []
        for _ in 0..<100 {
            volumes = try EC2Environment.configsVolumes(tag: "molecule:workspace-id", orphan)
            if volumes.isEmpty { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(volumes.isEmpty, "the orphan's configs volume was not removed")
        #expect(
            try EC2Environment.instances(tag: "molecule:workspace-id", foreign, states: ["running"]).count == 1,
            "another owner's instance was touched")
        _ = try await theirs.call(.stop, WorkspaceRef(workspaceId: foreign), as: StopResponse.self)
        _ = try await theirs.call(.removeStorage, WorkspaceRef(workspaceId: foreign), as: RemoveStorageResponse.self)

        // A live workspace whose instance is terminated outside the Host goes offline.
        let id = try #require(try await host.request("POST", "/workspaces", json: ["name": "mortal", "provider": "ec2"])["id"]?.stringValue)
        try await host.waitForInstance(id, timeout: .seconds(60))
        let instanceRef = try #require(try await host.request("GET", "/workspaces/\(id)")["instance_ref"]?.stringValue)
        let token = try #require(try? String(contentsOf: scratch.appendingPathComponent("files/\(id)/.auth_token"), encoding: .utf8))
        #expect(
            try await host.request("POST", "/registry/register", auth: .token(token), json: ["id": .string(id), "agent_card": [:]]).status == 200)
        try await host.waitForStatus(id, ["online"])
        _ = try EC2Environment.aws(["terminate-instances", "--instance-ids", instanceRef])
        try await host.waitForStatus(id, ["offline"], timeout: .seconds(15))
        #expect(try await host.request("DELETE", "/workspaces/\(id)?purge=true").status == 200)
    }

    @Test func filesVerbsReuseOneAuthenticatedSession() async throws {
        let owner = "ec2-pool-\(UUID().uuidString.prefix(8).lowercased())"
        let scratch = try EC2Environment.scratch("pool")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let instance = try EC2Environment.instance(owner: owner, scratch: scratch)
        defer { Task { await instance.shutdown() } }
        let id = "pool-\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await instance.call(.provision, ProvisionRequest(workspaceId: id), as: ProvisionResponse.self)
        let before = EC2Environment.acceptedConnections()
        for round in 0..<3 {
            let content = Data("round \(round)".utf8)
            _ = try await instance.call(
                .writeFile, WriteFileRequest(workspaceId: id, path: "r.txt", contentBase64: content.base64EncodedString()), as: FileWriteResponse.self
            )
            let read = try await instance.call(.readFile, FilePathRequest(workspaceId: id, path: "r.txt"), as: FileContent.self)
            #expect(Data(base64Encoded: read.contentBase64) == content)
            _ = try await instance.call(.listFiles, ListFilesRequest(workspaceId: id), as: ListFilesResponse.self)
        }
        // A refused request does not cost the connection either.
        do {
            _ = try await instance.call(.readFile, FilePathRequest(workspaceId: id, path: "missing"), as: FileContent.self)
            Issue.record("read of a missing file succeeded")
        } catch {
            #expect(error.status == .notFound, "\(error)")
        }
        // mkfs leaves a root-only lost+found in the volume: listings as the agent's uid skip it rather than fail.
        let lostAndFound = scratch.appendingPathComponent("files/\(id)/lost+found")
        try FileManager.default.createDirectory(at: lostAndFound, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try Data("x".utf8).write(to: lostAndFound.appendingPathComponent("#12"))
        let deep = try await instance.call(.listFiles, ListFilesRequest(workspaceId: id, depth: 3), as: ListFilesResponse.self)
        #expect(deep.files.map(\.path) == ["r.txt"], "\(deep.files)")
        #expect(
            EC2Environment.acceptedConnections() - before == 1, "12 files verbs opened \(EC2Environment.acceptedConnections() - before) connections")
        _ = try await instance.call(.stop, WorkspaceRef(workspaceId: id), as: StopResponse.self)
        _ = try await instance.call(.removeStorage, WorkspaceRef(workspaceId: id), as: RemoveStorageResponse.self)
    }
}
