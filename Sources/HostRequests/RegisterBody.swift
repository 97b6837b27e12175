import Foundation
import ProviderWire

/// `POST /registry/register`: the agent announces its URL, card and delivery mode.
public struct RegisterBody: ValidatedBody {
    public var id: UUID
    public var url: String?
    public var agentCard: JSONValue
    public var deliveryMode: String?

    enum CodingKeys: String, CodingKey {
        case id, url
        case agentCard = "agent_card"
        case deliveryMode = "delivery_mode"
    }

    public static let maximumURLLength = 2048
    /// An agent card, encoded, at most.
    public static let maximumCardBytes = 64 << 10

    public func validate() throws(RequestError) {
        if let mode = deliveryMode, mode != "push", mode != "poll" { throw .invalid("\"delivery_mode\" must be \"push\" or \"poll\"") }
        try RequestText.checkString(url, field: "url", maximum: Self.maximumURLLength)
        if let url, !url.isEmpty, !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            throw .invalid("\"url\" must be an http or https URL")
        }
        try AgentCardBody.checkCard(agentCard)
    }
}

/// `POST /registry/update-card`.
public struct AgentCardBody: ValidatedBody {
    public var workspaceId: UUID
    public var agentCard: JSONValue

    enum CodingKeys: String, CodingKey {
        case workspaceId = "workspace_id"
        case agentCard = "agent_card"
    }

    public func validate() throws(RequestError) { try Self.checkCard(agentCard) }

    /// A card is a JSON object within the size and depth bounds.
    static func checkCard(_ card: JSONValue) throws(RequestError) {
        guard card.objectValue != nil else { throw .invalid("\"agent_card\" must be a JSON object") }
        try RequestText.checkStored(card, field: "agent_card", maximumBytes: RegisterBody.maximumCardBytes)
    }
}
