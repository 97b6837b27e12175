import Foundation

/// What the agent reads from the environment the platform sets, validated once at start.
struct AgentConfig: Sendable {
    /// A setting that stops the agent before it starts (exit status 2).
    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    var workspaceID: String
    /// The platform's base URL, without a trailing slash; nil: no platform to register with (the agent still serves).
    var platformURL: String?
    /// Where the workspace token is read from and written to (none when neither variable names one).
    var tokenFile: String?
    /// `MOLECULE_WORKSPACE_TOKEN`: the token used when the file has none.
    var environmentToken: String?
    var port: Int
    /// The URL registered with the platform and put in the agent card.
    var advertisedURL: String
    var heartbeatSeconds: Double
    var name: String

    init(environment: [String: String] = ProcessInfo.processInfo.environment) throws(Invalid) {
        func value(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        guard let workspaceID = value("WORKSPACE_ID") else { throw Invalid(description: "WORKSPACE_ID is not set") }
        var platformURL = value("PLATFORM_URL")
        while platformURL?.hasSuffix("/") == true { platformURL?.removeLast() }
        let portText = value("PORT") ?? "8000"
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw Invalid(description: "PORT must be a number in 1...65535, not \(portText)")
        }
        self.workspaceID = workspaceID
        self.platformURL = platformURL
        self.tokenFile = value("MOLECULE_WORKSPACE_TOKEN_FILE") ?? value("CONFIGS_DIR").map { $0 + "/.auth_token" }
        self.environmentToken = value("MOLECULE_WORKSPACE_TOKEN")
        self.port = port
        self.advertisedURL = value("AGENT_URL") ?? "http://\(value("HOSTNAME") ?? "127.0.0.1"):\(port)"
        if let milliseconds = value("MOLECULE_AGENT_HEARTBEAT_MS").flatMap({ Int($0) }) {
            self.heartbeatSeconds = Double(max(100, milliseconds)) / 1000
        } else {
            let seconds = value("HEARTBEAT_INTERVAL").flatMap { Double($0) }.flatMap { $0.isFinite ? $0 : nil } ?? 30
            self.heartbeatSeconds = min(max(seconds, 5), 300)
        }
        self.name = value("WORKSPACE_NAME") ?? "molecule-agent"
    }

    /// The agent card this configuration advertises.
    var card: AgentCard { AgentCard(name: name, url: advertisedURL) }
}
