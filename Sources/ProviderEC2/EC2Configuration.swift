import Foundation
import ProviderKit
import ProviderWire

/// The EC2 provider's configuration (`options` in the Host's provider list). Region, endpoint and credentials fall
/// back to the standard AWS variables: `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL_EC2`/`AWS_ENDPOINT_URL`,
/// `AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
struct EC2Configuration: Decodable, Sendable {
    var region: String
    var endpoint: String
    var instanceConnectEndpoint: String
    var credentials: AWSCredentials
    /// Owner id written to every resource's `molecule:owner` tag; `list_owned` and the reaper never see other owners'.
    var owner: String
    /// The AMI to boot (a request's `image` starting with `ami-` overrides it).
    var ami: String?
    var instanceType: String
    /// Instance type per tier ("1"…"4").
    var tiers: [String: String]
    var subnetId: String?
    var securityGroupIds: [String]
    var keyName: String?
    var iamInstanceProfile: String?
    var availabilityZone: String?
    /// The workspace runtime container the bootstrap starts (a request's non-AMI `image` overrides it).
    var runtimeImage: String?
    /// The workspace's configs live on their own EBS volume, kept across stop (terminate) and restart.
    var configsVolumeGb: Int
    var configsDevice: String
    /// pause = StopInstances with `Hibernate=true` (the AMI and instance type must support it).
    var hibernate: Bool
    /// Where `/configs` lives on the instance, per runtime (`default` for the rest); `{workspace_id}` is replaced.
    var roots: [String: String]
    var ssh: SSHConfiguration
    /// Host-key records and snapshot archives.
    var stateDir: String
    var retry: RetryPolicy
    /// Files and plugins are owned by this uid/gid (the agent's) when the provider acts as root.
    var pluginUid: Int
    /// How long provision waits for the instance to run (and restore for SSH), within the call's deadline.
    var bootTimeoutMs: Int
    var pollIntervalMs: Int
    /// Wait for the bootstrap's mount marker (`<root>/.molecule-mounted`) before writing into a new instance; off only
    /// where instances run no user-data (a test API such as moto).
    var waitForBootstrap: Bool

    /// Molecule's per-runtime roots (reference: `resolveWorkspaceRootPath`).
    static let defaultRoots = [
        "default": "/configs", "claude-code": "/configs", "hermes": "/home/ubuntu/.hermes", "langgraph": "/opt/configs", "external": "/opt/configs",
    ]

    enum CodingKeys: String, CodingKey {
        case region, endpoint, owner, ami, tiers, roots, ssh, retry, hibernate
        case instanceConnectEndpoint = "instance_connect_endpoint"
        case accessKeyId = "access_key_id"
        case secretAccessKey = "secret_access_key"
        case sessionToken = "session_token"
        case instanceType = "instance_type"
        case subnetId = "subnet_id"
        case securityGroupIds = "security_group_ids"
        case keyName = "key_name"
        case iamInstanceProfile = "iam_instance_profile"
        case availabilityZone = "availability_zone"
        case runtimeImage = "runtime_image"
        case configsVolumeGb = "configs_volume_gb"
        case configsDevice = "configs_device"
        case stateDir = "state_dir"
        case pluginUid = "plugin_uid"
        case bootTimeoutMs = "boot_timeout_ms"
        case pollIntervalMs = "poll_interval_ms"
        case waitForBootstrap = "wait_for_bootstrap"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let environment = ProcessInfo.processInfo.environment
        func setting(_ key: CodingKeys, _ variables: [String]) throws -> String? {
            if let value = try c.decodeIfPresent(String.self, forKey: key), !value.isEmpty { return value }
            return variables.lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
        }
        region = try setting(.region, ["AWS_REGION", "AWS_DEFAULT_REGION"]) ?? "us-east-1"
        endpoint = try setting(.endpoint, ["AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL"]) ?? "https://ec2.\(region).amazonaws.com"
        // An overridden EC2 endpoint (a test server, a VPC endpoint) is used for Instance Connect too unless set apart.
        let endpointOverridden = endpoint != "https://ec2.\(region).amazonaws.com"
        instanceConnectEndpoint =
            try setting(.instanceConnectEndpoint, ["AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT"])
            ?? (endpointOverridden ? endpoint : "https://ec2-instance-connect.\(region).amazonaws.com")
        for (name, url) in [("endpoint", endpoint), ("instance_connect_endpoint", instanceConnectEndpoint)] {
            guard let parsed = URL(string: url), ["https", "http"].contains(parsed.scheme ?? ""), parsed.host != nil else {
                throw ProviderError.invalidArgument("ec2 configuration: \(name) \"\(url)\" is not an http(s) URL")
            }
        }
        guard let key = try setting(.accessKeyId, ["AWS_ACCESS_KEY_ID"]), let secret = try setting(.secretAccessKey, ["AWS_SECRET_ACCESS_KEY"]) else {
            throw ProviderError.invalidArgument(
                "ec2 configuration: no credentials (set access_key_id/secret_access_key or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)")
        }
        credentials = AWSCredentials(accessKeyId: key, secretAccessKey: secret, sessionToken: try setting(.sessionToken, ["AWS_SESSION_TOKEN"]))
        owner = try c.decodeIfPresent(String.self, forKey: .owner) ?? "default"
        ami = try c.decodeIfPresent(String.self, forKey: .ami)
        instanceType = try c.decodeIfPresent(String.self, forKey: .instanceType) ?? "t3.medium"
        tiers = try c.decodeIfPresent([String: String].self, forKey: .tiers) ?? [:]
        subnetId = try c.decodeIfPresent(String.self, forKey: .subnetId)
        securityGroupIds = try c.decodeIfPresent([String].self, forKey: .securityGroupIds) ?? []
        keyName = try c.decodeIfPresent(String.self, forKey: .keyName)
        iamInstanceProfile = try c.decodeIfPresent(String.self, forKey: .iamInstanceProfile)
        availabilityZone = try c.decodeIfPresent(String.self, forKey: .availabilityZone)
        runtimeImage = try c.decodeIfPresent(String.self, forKey: .runtimeImage)
        configsVolumeGb = try c.decodeIfPresent(Int.self, forKey: .configsVolumeGb) ?? 8
        configsDevice = try c.decodeIfPresent(String.self, forKey: .configsDevice) ?? "/dev/sdf"
        hibernate = try c.decodeIfPresent(Bool.self, forKey: .hibernate) ?? false
        roots = Self.defaultRoots.merging(try c.decodeIfPresent([String: String].self, forKey: .roots) ?? [:]) { _, configured in configured }
        for (runtime, root) in roots where !root.hasPrefix("/") || root.contains("..") {
            throw ProviderError.invalidArgument("ec2 configuration: root for runtime \(runtime) \"\(root)\" must be an absolute path without \"..\"")
        }
        ssh = try c.decodeIfPresent(SSHConfiguration.self, forKey: .ssh) ?? SSHConfiguration()
        stateDir = try c.decodeIfPresent(String.self, forKey: .stateDir) ?? ".molecule/ec2"
        retry = try c.decodeIfPresent(RetryPolicy.self, forKey: .retry) ?? RetryPolicy()
        pluginUid = try c.decodeIfPresent(Int.self, forKey: .pluginUid) ?? 1000
        bootTimeoutMs = min(3_600_000, max(1000, try c.decodeIfPresent(Int.self, forKey: .bootTimeoutMs) ?? 300_000))
        pollIntervalMs = min(60_000, max(20, try c.decodeIfPresent(Int.self, forKey: .pollIntervalMs) ?? 2000))
        waitForBootstrap = try c.decodeIfPresent(Bool.self, forKey: .waitForBootstrap) ?? true
        guard (0...65_534).contains(pluginUid) else { throw ProviderError.invalidArgument("ec2 configuration: plugin_uid \(pluginUid) is not a uid") }
    }
}

/// How the provider reaches an instance over SSH for files, plugins and diagnose.
struct SSHConfiguration: Decodable, Sendable {
    enum Mode: String, Decodable, Sendable {
        /// An ephemeral ed25519 key per connection, sent with EC2 Instance Connect `SendSSHPublicKey` (production).
        case instanceConnect = "instance-connect"
        /// A private key file whose public half the AMI or user-data installed.
        case staticKey = "static-key"
    }

    var mode: Mode = .instanceConnect
    var user: String = "ubuntu"
    var port: Int = 22
    var keyPath: String?
    /// Which instance address to dial: `private` (default; the Host runs in the VPC) or `public`.
    var address: String = "private"
    /// `host:port` dialled instead of any instance address (a bastion-forwarded port; a loopback sshd in tests).
    var override: String?
    /// Run remote commands with `sudo -n`: as the agent's uid (`plugin_uid`) for everything inside the files root, as
    /// root only to create that root. Without sudo they run as `user` (and, as root, hand what they create to the uid).
    var sudo: Bool = true
    /// Pin every instance's host key to this fingerprint (`SHA256:…`); otherwise trust on first use, recorded.
    var hostKeySha256: String?
    var connectTimeoutMs: Int = 10_000
    /// Upper bound for one remote command, whatever the call's deadline.
    var commandTimeoutMs: Int = 300_000
    /// How long an authenticated session is kept for the next verb on the same instance (0: never reused).
    var idleSessionMs: Int = 30_000

    enum CodingKeys: String, CodingKey {
        case mode, user, port, address, override, sudo
        case commandTimeoutMs = "command_timeout_ms"
        case idleSessionMs = "idle_session_ms"
        case keyPath = "key_path"
        case hostKeySha256 = "host_key_sha256"
        case connectTimeoutMs = "connect_timeout_ms"
    }

    init() {}

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mode = try c.decodeIfPresent(Mode.self, forKey: .mode) ?? .instanceConnect
        user = try c.decodeIfPresent(String.self, forKey: .user) ?? "ubuntu"
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? 22
        keyPath = try c.decodeIfPresent(String.self, forKey: .keyPath).flatMap { $0.isEmpty ? nil : $0 }
        address = try c.decodeIfPresent(String.self, forKey: .address) ?? "private"
        override = try c.decodeIfPresent(String.self, forKey: .override).flatMap { $0.isEmpty ? nil : $0 }
        sudo = try c.decodeIfPresent(Bool.self, forKey: .sudo) ?? true
        hostKeySha256 = try c.decodeIfPresent(String.self, forKey: .hostKeySha256).flatMap { $0.isEmpty ? nil : $0 }
        connectTimeoutMs = min(120_000, max(100, try c.decodeIfPresent(Int.self, forKey: .connectTimeoutMs) ?? 10_000))
        commandTimeoutMs = min(3_600_000, max(1000, try c.decodeIfPresent(Int.self, forKey: .commandTimeoutMs) ?? 300_000))
        idleSessionMs = min(600_000, max(0, try c.decodeIfPresent(Int.self, forKey: .idleSessionMs) ?? 30_000))
        guard ["private", "public"].contains(address) else {
            throw ProviderError.invalidArgument("ec2 configuration: ssh.address must be \"private\" or \"public\", not \"\(address)\"")
        }
        if mode == .staticKey && keyPath == nil {
            throw ProviderError.invalidArgument("ec2 configuration: ssh.mode static-key needs ssh.key_path")
        }
        if let override, Self.split(override) == nil {
            throw ProviderError.invalidArgument("ec2 configuration: ssh.override \"\(override)\" must be host:port")
        }
        if let pin = hostKeySha256, !pin.hasPrefix("SHA256:") {
            throw ProviderError.invalidArgument("ec2 configuration: ssh.host_key_sha256 must look like SHA256:<base64>")
        }
    }

    /// `host:port` → its parts.
    static func split(_ hostPort: String) -> (host: String, port: Int)? {
        guard let colon = hostPort.lastIndex(of: ":"), let port = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(port) else {
            return nil
        }
        let host = String(hostPort[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return host.isEmpty ? nil : (host, port)
    }
}
