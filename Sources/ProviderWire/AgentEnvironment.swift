/// The environment a workspace's agent starts with: every variable the platform sets, who owns it, and the one merge
/// that gives each its value. The Host builds a provision request's `env` with it, and every provider builds the
/// agent's environment from that request with it, so no two places can disagree on a name or on who wins.
///
/// Precedence, highest first:
///
/// 1. **Host-owned** (``Name/workspaceId``, ``Name/platformURL``, ``Name/tier``, ``Name/parentId``): from the
///    workspace's record. A user value under one of these names is dropped, never passed on.
/// 2. **Provider-owned** (``Name/configPath``, ``Name/configsDir``, ``Name/tokenFile``, and a provider's own labels):
///    where the provider put the files root and the token. A user value under these names is dropped too.
/// 3. **The user's** `config.env`: every other name, verbatim.
/// 4. **The provider's base** (say `PATH` and `HOME` for a local process): anything the user did not set.
///
/// The Host calls ``init(workspaceId:platformURL:tier:parentId:userEnvironment:)`` and sends ``variables``; a provider
/// calls ``init(request:)`` and starts the agent with ``variables(filesRoot:base:labels:)``.
public struct AgentEnvironment: Sendable, Hashable {
    /// The variable names the platform sets.
    public enum Name {
        /// The workspace's id (Host-owned).
        public static let workspaceId = "WORKSPACE_ID"
        /// Where the agent reaches the Host (Host-owned).
        public static let platformURL = "PLATFORM_URL"
        /// The workspace's tier (Host-owned).
        public static let tier = "TIER"
        /// The parent workspace's id, for a child workspace (Host-owned).
        public static let parentId = "PARENT_ID"
        /// The files root as the agent sees it (provider-owned).
        public static let configPath = "WORKSPACE_CONFIG_PATH"
        /// The files root as the agent sees it, Molecule's older name (provider-owned).
        public static let configsDir = "CONFIGS_DIR"
        /// The file holding the workspace's registry token (provider-owned).
        public static let tokenFile = "MOLECULE_WORKSPACE_TOKEN_FILE"
        /// The address the agent advertises, as peers and the Host reach it (provider-owned; Molecule's runtime builds
        /// its URL from it).
        public static let hostname = "HOSTNAME"
        /// The port the agent listens on, its own for as long as the workspace exists (provider-owned).
        public static let port = "PORT"
        /// The same port under the name A2A servers commonly read (provider-owned).
        public static let a2aPort = "A2A_PORT"
        /// `http://HOSTNAME:PORT`: the URL the agent registers (provider-owned).
        public static let agentURL = "AGENT_URL"
    }

    /// Where a workspace's agent listens and how others reach it: a provider's answer, the same names on every backend.
    public struct Network: Sendable, Hashable {
        /// The advertised address (a local process: the configured host; a container or an instance: its own).
        public var address: String
        /// The port the agent listens on.
        public var port: Int
        public init(address: String, port: Int) {
            self.address = address
            self.port = port
        }

        /// The variables that tell the agent: ``Name/hostname``, ``Name/port``, ``Name/a2aPort``, ``Name/agentURL``.
        public var variables: [String: String] {
            let host = address.contains(":") ? "[\(address)]" : address
            return [Name.hostname: address, Name.port: String(port), Name.a2aPort: String(port), Name.agentURL: "http://\(host):\(port)"]
        }
    }

    /// The names only the Host gives a value.
    public static let hostOwnedNames: Set<String> = [Name.workspaceId, Name.platformURL, Name.tier, Name.parentId]
    /// The names only the provider gives a value (from where it put the files root).
    public static let providerOwnedNames: Set<String> = [
        Name.configPath, Name.configsDir, Name.tokenFile, Name.hostname, Name.port, Name.a2aPort, Name.agentURL,
    ]
    /// Every name a user's `config.env` cannot set.
    public static let reservedNames = hostOwnedNames.union(providerOwnedNames)
    /// The token's file name inside the files root.
    public static let tokenFileName = ".auth_token"

    /// Whether a path of the files root holds a credential that must never leave the workspace (snapshots skip it).
    public static func isCredential(_ path: RelativePath) -> Bool { path.string == tokenFileName }

    /// The workspace's id.
    public var workspaceId: String
    /// Where the agent reaches the Host, if the Host has an address.
    public var platformURL: String?
    /// The workspace's tier.
    public var tier: Int?
    /// The parent workspace's id.
    public var parentId: String?
    /// The user's variables, without any reserved name.
    public private(set) var userEnvironment: [String: String]

    /// The Host's side: the workspace's record and the user's `config.env` (reserved names in it are dropped).
    public init(workspaceId: String, platformURL: String?, tier: Int?, parentId: String?, userEnvironment: [String: String]) {
        self.workspaceId = workspaceId
        self.platformURL = platformURL
        self.tier = tier
        self.parentId = parentId
        self.userEnvironment = userEnvironment.filter { !Self.reservedNames.contains($0.key) }
    }

    /// A provider's side: a provision (or restore) request. Its typed fields win over the same names in its `env` (the
    /// Host sends both); `PARENT_ID` has no typed field and comes from `env`.
    public init(request: ProvisionRequest) {
        self.init(
            workspaceId: request.workspaceId,
            platformURL: request.platformUrl ?? request.env[Name.platformURL],
            tier: request.tier ?? request.env[Name.tier].flatMap { Int($0) },
            parentId: request.env[Name.parentId],
            userEnvironment: request.env
        )
    }

    /// The Host-owned variables (absent values are not set).
    public var hostOwned: [String: String] {
        var variables = [Name.workspaceId: workspaceId]
        if let platformURL { variables[Name.platformURL] = platformURL }
        if let tier { variables[Name.tier] = String(tier) }
        if let parentId { variables[Name.parentId] = parentId }
        return variables
    }

    /// What the Host sends as a provision request's `env`: the user's variables and the Host-owned ones.
    public var variables: [String: String] { userEnvironment.merging(hostOwned) { _, host in host } }

    /// What a provider starts the agent with, in the documented precedence: `base` < the user's variables < the
    /// provider-owned variables for `filesRoot`, `network` and `labels` < the Host-owned variables.
    public func variables(
        filesRoot: String, network: Network? = nil, base: [String: String] = [:], labels: [String: String] = [:]
    ) -> [String: String] {
        let provided = Self.providerOwned(filesRoot: filesRoot).merging(network?.variables ?? [:]) { _, net in net }
        return base.merging(userEnvironment) { _, user in user }
            .merging(provided.merging(labels) { _, label in label }) { _, provider in provider }
            .merging(hostOwned) { _, host in host }
    }

    /// The provider-owned variables for a files root at `filesRoot` (as the agent sees it).
    public static func providerOwned(filesRoot: String) -> [String: String] {
        [Name.configPath: filesRoot, Name.configsDir: filesRoot, Name.tokenFile: filesRoot + "/" + tokenFileName]
    }

    /// The variables that name the workspace and its files and carry no secret (safe in, say, EC2 user-data): the id and
    /// the provider-owned paths.
    public static func identity(workspaceId: String, filesRoot: String) -> [String: String] {
        providerOwned(filesRoot: filesRoot).merging([Name.workspaceId: workspaceId]) { _, id in id }
    }

    /// The string values of a JSON object (a workspace's `config.env`); other values and other shapes are ignored.
    public static func strings(in json: JSONValue?) -> [String: String] {
        guard case .object(let object)? = json else { return [:] }
        return object.compactMapValues(\.stringValue)
    }
}
