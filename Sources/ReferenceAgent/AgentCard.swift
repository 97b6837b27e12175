/// The A2A agent card served at `/.well-known/agent-card.json` and sent with the registration.
struct AgentCard: Encodable, Sendable {
    /// What the agent supports beyond a plain request and answer (nothing).
    struct Capabilities: Encodable, Sendable {
        var streaming = false
        var pushNotifications = false
    }

    /// One thing the agent can do.
    struct Skill: Encodable, Sendable {
        var id: String
        var name: String
        var description: String
        var tags: [String]
    }

    var name: String
    var description = "Molecule Host reference agent (echo)"
    var version = "1.0.0"
    var url: String
    var capabilities = Capabilities()
    var defaultInputModes = ["text/plain"]
    var defaultOutputModes = ["text/plain"]
    var skills = [Skill(id: "echo", name: "echo", description: "Answers every message with its own text", tags: ["echo"])]
}
