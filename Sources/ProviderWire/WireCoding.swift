import Foundation

/// The one JSON encoding used on both sides of the ABI: compact, sorted keys (stable bytes), ISO dates unused.
public enum WireCoding {
    // Configured once and shared: JSONEncoder/JSONDecoder are thread-safe once configured, and building one per
    // call was a measurable share of an ABI round trip (see molecule-bench).
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
    private static let decoder = JSONDecoder()

    /// Encodes a wire value to JSON bytes.
    public static func encode(_ value: some Encodable) throws -> [UInt8] {
        Array(try encoder.encode(value))
    }

    /// Decodes a wire value from JSON bytes.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        return try decoder.decode(type, from: Data(bytes))
    }
}

/// The request of verbs that name only a workspace (stop, inspect, pause, resume, snapshot, logs, …).
public struct WorkspaceRef: Sendable, Hashable, Codable {
    public var workspaceId: String
    public init(workspaceId: String) { self.workspaceId = workspaceId }
    enum CodingKeys: String, CodingKey { case workspaceId = "workspace_id" }
}

/// `describe`: the provider's identity and the reachability of its backend.
public struct DescribeResponse: Sendable, Hashable, Codable {
    public var name: String
    public var version: String
    /// What backend this instance talks to (socket path, endpoint, state dir), for operators.
    public var backend: String?
    public init(name: String, version: String, backend: String? = nil) {
        self.name = name
        self.version = version
        self.backend = backend
    }
}
