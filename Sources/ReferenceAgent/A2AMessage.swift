import Foundation

/// One part of an A2A message. Only text parts are read; other kinds (file, data) are accepted and skipped.
struct A2APart: Codable, Sendable {
    var kind: String
    var text: String?
}

/// An A2A message, as sent by a client and as answered by the agent.
struct A2AMessage: Codable, Sendable {
    var kind: String?
    var role: String
    var parts: [A2APart]
    var messageId: String
    var contextId: String?
    var taskId: String?

    /// Every text part carries its text.
    var isValid: Bool { parts.allSatisfy { $0.kind != "text" || $0.text != nil } }

    /// The agent's answer: one text part holding this message's text parts, concatenated.
    func echo() -> A2AMessage {
        let text = parts.filter { $0.kind == "text" }.compactMap(\.text).joined()
        return A2AMessage(
            kind: "message", role: "agent", parts: [A2APart(kind: "text", text: text)], messageId: UUID().uuidString.lowercased(),
            contextId: contextId, taskId: taskId
        )
    }
}

/// The params of `message/send` (only what the echo reads).
struct MessageSendParams: Decodable {
    var message: A2AMessage
}
