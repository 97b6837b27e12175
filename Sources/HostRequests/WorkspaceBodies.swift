import Foundation
import ProviderWire

/// Bounds shared by the workspace bodies.
public enum WorkspaceBounds {
    public static let maximumNameLength = 200
    public static let maximumRoleLength = 200
    public static let tiers = 1...4
    /// `config`, encoded, at most.
    public static let maximumConfigBytes = 256 << 10
    public static let maximumIdentifierLength = 128

    static func checkConfig(_ config: JSONValue?) throws(RequestError) {
        guard let config else { return }
        guard config.objectValue != nil else { throw .invalid("\"config\" must be a JSON object") }
        try RequestText.checkStored(config, field: "config", maximumBytes: maximumConfigBytes)
    }

    /// A runtime or provider name: letters, digits, `-`, `_`, `.`.
    static func checkIdentifier(_ value: String?, field: String) throws(RequestError) {
        guard let value else { return }
        let allowed = value.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) }
        guard !value.isEmpty, value.count <= maximumIdentifierLength, allowed else {
            throw .invalid("\"\(field)\" must be 1-\(maximumIdentifierLength) letters, digits, '-', '_' or '.'")
        }
    }
}

/// `POST /workspaces`.
public struct CreateWorkspaceBody: ValidatedBody {
    public var name: String
    public var role: String?
    public var tier: Int?
    public var runtime: String?
    public var provider: String?
    public var parentId: UUID?
    public var config: JSONValue?
    public var snapshotId: String?
    /// False: a plain command (`config.command`) that runs without registering. Default true: an agent.
    public var agent: Bool?
    /// The template whose files seed the files root before the first start (admin only).
    public var template: String?

    enum CodingKeys: String, CodingKey {
        case name, role, tier, runtime, provider
        case parentId = "parent_id"
        case config
        case snapshotId = "snapshot_id"
        case agent, template
    }

    /// The name as stored (trimmed).
    public var trimmedName: String { RequestText.trimmed(name) }

    public func validate() throws(RequestError) {
        guard !trimmedName.isEmpty, trimmedName.count <= WorkspaceBounds.maximumNameLength else {
            throw .invalid("\"name\" must be 1-\(WorkspaceBounds.maximumNameLength) characters")
        }
        try RequestText.checkString(role, field: "role", maximum: WorkspaceBounds.maximumRoleLength)
        try RequestText.checkRange(tier, field: "tier", WorkspaceBounds.tiers)
        try WorkspaceBounds.checkIdentifier(runtime, field: "runtime")
        try WorkspaceBounds.checkIdentifier(provider, field: "provider")
        try WorkspaceBounds.checkConfig(config)
        if let snapshotId {
            do { try Identifier.validateSnapshotId(snapshotId) } catch { throw .invalid("\"snapshot_id\": \(error.message)") }
        }
        if let template {
            do { try RelativePath.validatePluginName(template) } catch { throw .invalid("\"template\": \(error.message)") }
        }
    }
}

/// `PATCH /workspaces/{id}`. Which fields a caller may send is the principal rule (``fieldsNeedingAdmin``).
public struct PatchWorkspaceBody: ValidatedBody {
    public var name: String?
    public var role: String?
    public var tier: Int?
    public var config: JSONValue?

    /// Fields that decide what runs (and where): only the admin token changes them.
    public var fieldsNeedingAdmin: [String] {
        [tier.map { _ in "tier" }, config.map { _ in "config" }].compactMap { $0 }
    }

    public func validate() throws(RequestError) {
        try RequestText.checkString(name, field: "name", maximum: WorkspaceBounds.maximumNameLength, allowsEmpty: false)
        try RequestText.checkString(role, field: "role", maximum: WorkspaceBounds.maximumRoleLength)
        try RequestText.checkRange(tier, field: "tier", WorkspaceBounds.tiers)
        try WorkspaceBounds.checkConfig(config)
    }
}
