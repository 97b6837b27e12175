/// The body of `POST /registry/register`.
struct RegisterRequest: Encodable {
    var id: String
    var url: String
    var agentCard: AgentCard

    enum CodingKeys: String, CodingKey {
        case id, url
        case agentCard = "agent_card"
    }
}

/// The part of the registration answer the agent reads: a token the platform issued, if any (`auth_token`).
struct RegisterReply: Decodable {
    var authToken: String?
}

/// The body of `POST /registry/heartbeat`: an idle agent with no errors (keys encoded snake_case).
struct HeartbeatRequest: Encodable {
    /// What the agent implements of the platform's runtime contract (`runtime_metadata.capabilities`).
    struct Capabilities: Encodable {
        var heartbeat = true, scheduler = false, session = false, statusMgmt = false, retry = true
        var activityDecoration = false, channelDispatch = false
    }

    /// The `runtime_metadata` object.
    struct RuntimeMetadata: Encodable {
        var capabilities = Capabilities()
    }

    var workspaceId: String
    var errorRate = 0
    var sampleError = ""
    var activeTasks = 0
    var currentTask = ""
    var uptimeSeconds: Int
    var runtimeMetadata = RuntimeMetadata()
}
