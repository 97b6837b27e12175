import Foundation
import ProviderHTTP
import ProviderKit
import ProviderWire
import Testing

@testable import ProviderEC2

/// The EC2 provider's pure logic: error mapping, XML reading, shell quoting, user-data, tokens. Its behaviour against a
/// real EC2 API and sshd is tested in HostTests/EC2ProviderTests (moto + a loopback sshd).
struct EC2LogicTests {
    static func errorBody(_ code: String, _ message: String = "m") -> [UInt8] {
        Array(
            "<?xml version=\"1.0\"?><Response><Errors><Error><Code>\(code)</Code><Message>\(message)</Message></Error></Errors><RequestID>r</RequestID></Response>"
                .utf8)
    }

    @Test(arguments: [
        ("RequestLimitExceeded", 503, ProviderStatus.unavailable),
        ("InternalError", 500, .unavailable),
        ("Unavailable", 503, .unavailable),
        ("InvalidInstanceID.NotFound", 400, .notFound),
        ("InvalidAMIID.Malformed", 400, .notFound),
        ("UnauthorizedOperation", 403, .unauthenticated),
        ("AuthFailure", 401, .unauthenticated),
        ("InsufficientInstanceCapacity", 500, .unavailable),  // a 5xx is retried whatever its code
        ("InstanceLimitExceeded", 400, .quotaExceeded),
        ("IncorrectInstanceState", 400, .conflict),
        ("VolumeInUse", 400, .conflict),
        ("InvalidParameterValue", 400, .invalidArgument),
        ("MissingParameter", 400, .invalidArgument),
        ("SomethingNew", 400, .internal),
    ])
    func everyNon2xxMapsOntoTheTaxonomyNeverSuccess(code: String, status: Int, expected: ProviderStatus) {
        let failure = EC2Failure(response: CurlResponse(status: status, body: Self.errorBody(code, "details here")))
        #expect(failure.code == code)
        let error = failure.providerError(action: "RunInstances", attempts: 1)
        #expect(error.status == expected, "\(code) → \(error)")
        #expect(error.message.contains(code) && error.message.contains("details here") && error.message.contains("RunInstances"))
        #expect(error.status != .ok)
    }

    @Test func aBodyThatIsNotXMLStillFailsWithTheStatus() {
        let failure = EC2Failure(response: CurlResponse(status: 502, body: Array("<html>bad gateway".utf8)))
        #expect(failure.isRetryable && failure.code == "HTTP502")
        let error = failure.providerError(action: "DescribeInstances", attempts: 4)
        #expect(error.status == .unavailable && error.message.contains("4 attempts"))
        let json = EC2Failure(
            response: CurlResponse(status: 400, body: Array(#"{"__type":"com.amazon#InvalidArgsException","Message":"bad key"}"#.utf8)))
        #expect(json.code == "InvalidArgsException" && json.providerError(action: "SendSSHPublicKey", attempts: 1).status == .invalidArgument)
    }

    @Test func describeInstancesIsReadWithTagsAndStates() throws {
        let xml = """
            <DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><reservationSet><item><instancesSet>
            <item><instanceId>i-1</instanceId><imageId>ami-1</imageId><instanceState><code>16</code><name>running</name></instanceState>
            <privateIpAddress>10.0.0.5</privateIpAddress><ipAddress>54.1.2.3</ipAddress><placement><availabilityZone>us-east-1a</availabilityZone></placement>
            <launchTime>2026-11-22T04:00:00.000Z</launchTime>
            <tagSet><item><key>molecule:workspace-id</key><value>ws-a</value></item><item><key>molecule:owner</key><value>o &amp; co</value></item></tagSet></item>
            <item><instanceId>i-2</instanceId><instanceState><name>stopped</name></instanceState></item>
            </instancesSet></item></reservationSet><nextToken>tok</nextToken></DescribeInstancesResponse>
            """
        let document = try XMLNode.parse(Array(xml.utf8), what: "test")
        let instances = EC2Instance.all(in: document)
        #expect(instances.map(\.id) == ["i-1", "i-2"])
        #expect(instances[0].tags == ["molecule:workspace-id": "ws-a", "molecule:owner": "o & co"])
        #expect(
            instances[0].privateAddress == "10.0.0.5" && instances[0].publicAddress == "54.1.2.3" && instances[0].availabilityZone == "us-east-1a")
        #expect(instances[0].launchTime == Date(timeIntervalSince1970: 1_795_320_000))
        #expect(instances.map(\.instanceState) == [.running, .paused])
        #expect(document.value("nextToken") == "tok")
        #expect(throws: ProviderError.self) { try XMLNode.parse(Array("<unclosed>".utf8), what: "test") }
    }

    @Test(arguments: ["plain", "it's", "$(touch /tmp/pwned) `id` ${HOME}", "a\nb", "'", "''", "\\'\"", "--option", "*"])
    func shellQuotingSurvivesTheShell(word: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "printf %s \(word.shellQuoted)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        #expect(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == word)
    }

    @Test func userDataQuotesEverythingAndRespectsTheSizeLimit() throws {
        let data = UserData(
            workspaceId: "ws-1", root: "/configs", volumeId: "vol-0abc", device: "/dev/sdf", runtimeImage: "img:1",
            command: ["sh", "-c", "echo 'it s' $HOME"], uid: 1000, bootTimeoutSeconds: 300
        )
        let script = try data.rendered()
        #expect(script.hasPrefix("#!/bin/bash\n"))
        #expect(script.contains(#"'sh' '-c' 'echo '\''it s'\'' $HOME'"#), "\(script)")
        #expect(script.contains("ENVFILE=(--env-file \"$ROOT/.molecule-env\")") && script.contains("\"${ENVFILE[@]}\""))
        #expect(script.contains("WAIT=300") && script.contains("'/dev/xvdf'") && script.contains(".molecule-mounted"))
        // Remounted at every boot (resume), and a previous instance's token never starts the new container.
        #expect(script.contains("/etc/fstab") && script.contains("nofail"))
        let removal = try #require(script.range(of: "rm -f \"$ROOT/.auth_token\""))
        let marker = try #require(script.range(of: "touch \"$ROOT/.molecule-mounted\""))
        #expect(removal.lowerBound < marker.lowerBound)
        #expect(script.contains("nvme-Amazon_Elastic_Block_Store_vol0abc"))
        let syntax = Process()
        syntax.executableURL = URL(fileURLWithPath: "/bin/bash")
        syntax.arguments = ["-n", "-c", script]
        try syntax.run()
        syntax.waitUntilExit()
        #expect(syntax.terminationStatus == 0, "the rendered bootstrap is not valid bash")
        var huge = data
        huge.command = [String(repeating: "x", count: 20_000)]
        #expect(throws: ProviderError.self) { try huge.rendered() }
    }

    @Test func theEnvironmentFileCarriesValuesVerbatimAndRefusesWhatItCannot() throws {
        let file = try EnvironmentFile.render(["EVIL": "x'; rm -rf / # $(id)", "PLATFORM_URL": "http://h:1", "_X1": ""])
        #expect(file == "EVIL=x'; rm -rf / # $(id)\nPLATFORM_URL=http://h:1\n_X1=\n")
        #expect(try EnvironmentFile.render([:]) == "")
        for bad in [["A\nB": "v"], ["1A": "v"], ["A-B": "v"], ["A": "line\nbreak"], ["A": "nul\u{0}"]] {
            #expect(throws: ProviderError.self, "\(bad)") { try EnvironmentFile.render(bad) }
        }
    }

    @Test func clientTokensAreStableBoundedAndDistinct() {
        let long = String(repeating: "w", count: 128)
        let tokens = [
            EC2Provider.clientToken(workspaceId: "a", owner: "o", generation: 0),
            EC2Provider.clientToken(workspaceId: "a", owner: "o", generation: 1),
            EC2Provider.clientToken(workspaceId: "a", owner: "p", generation: 0),
            EC2Provider.clientToken(workspaceId: long, owner: "o", generation: 15),
        ]
        #expect(Set(tokens).count == tokens.count)
        #expect(tokens.allSatisfy { $0.utf8.count <= 64 && $0.allSatisfy(\.isASCII) })
        #expect(tokens[0] == EC2Provider.clientToken(workspaceId: "a", owner: "o", generation: 0))
        #expect(tokens.map(EC2Provider.generation(of:)) == [0, 1, 0, 15])
        #expect(EC2Provider.generation(of: "someone-else's-token") == nil)
    }

    @Test func retryDelaysGrowAndStayBounded() {
        var policy = RetryPolicy()
        policy.baseDelayMs = 100
        policy.maxDelayMs = 1000
        let delays = (1...8).map { policy.delayMs(afterAttempt: $0) }
        #expect(delays[0] >= 100 && delays[0] <= 120)
        #expect(delays[2] >= 400 && delays[2] <= 480)
        #expect(delays.allSatisfy { $0 <= 1200 })
    }

    @Test func configurationIsValidatedWithoutContactingAnything() throws {
        func make(_ json: JSONValue) throws -> EC2Provider { try EC2Provider(configuration: ProviderConfiguration(json: json)) }
        let base: [String: JSONValue] = ["access_key_id": "k", "secret_access_key": "s", "endpoint": "http://127.0.0.1:1"]
        let provider = try make(.object(base))
        #expect(provider.config.ssh.mode == .instanceConnect && provider.config.roots["hermes"] == "/home/ubuntu/.hermes")
        #expect(provider.root(runtime: "langgraph", workspaceId: "w") == "/opt/configs")
        #expect(provider.root(runtime: "unknown", workspaceId: "w") == "/configs")
        for bad: [String: JSONValue] in [
            ["ssh": ["mode": "static-key"]], ["ssh": ["override": "no-port"]], ["ssh": ["address": "elsewhere"]],
            ["ssh": ["host_key_sha256": "md5:xx"]], ["roots": ["default": "relative/path"]], ["endpoint": "ftp://x"],
        ] {
            #expect(throws: (any Error).self, "\(bad)") { try make(.object(base.merging(bad) { _, new in new })) }
        }
        #expect(SSHConfiguration.split("127.0.0.1:2222")! == ("127.0.0.1", 2222))
        #expect(SSHConfiguration.split("[::1]:22")! == ("::1", 22))
        #expect(SSHConfiguration.split("host:99999") == nil)
    }
}
