import Foundation
import ProviderWire

/// `PUT /workspaces/{id}/files/{path}`: text or base64 content.
public struct WriteFileBody: ValidatedBody {
    public var content: String?
    public var contentBase64: String?

    enum CodingKeys: String, CodingKey {
        case content
        case contentBase64 = "content_base64"
    }

    /// The content as base64: what was sent, checked once, or the text encoded once.
    public var base64: String {
        contentBase64 ?? Data((content ?? "").utf8).base64EncodedString()
    }

    public func validate() throws(RequestError) {
        if let sent = contentBase64 {
            guard Data(base64Encoded: sent) != nil else { throw .invalid("\"content_base64\" is not valid base64") }
        } else if content == nil {
            throw .invalid("send \"content\" (text) or \"content_base64\"")
        }
    }
}

/// `POST /workspaces/{id}/plugins`: a named, uncompressed tar archive.
public struct InstallPluginBody: ValidatedBody {
    public var name: String
    public var archiveBase64: String
    public var restart: Bool?

    enum CodingKeys: String, CodingKey {
        case name
        case archiveBase64 = "archive_base64"
        case restart
    }

    /// The archive's bytes, decoded once while the body is (nil when `archive_base64` is not base64).
    private let decodedArchive: Data?

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        archiveBase64 = try container.decode(String.self, forKey: .archiveBase64)
        restart = try container.decodeIfPresent(Bool.self, forKey: .restart)
        decodedArchive = Data(base64Encoded: archiveBase64)
    }

    /// The archive's bytes (validated: ``validate()`` refused anything else).
    public var archive: Data { decodedArchive ?? Data() }

    public func validate() throws(RequestError) {
        do { try RelativePath.validatePluginName(name) } catch { throw .invalid("\"name\": \(error.message)") }
        guard decodedArchive != nil else { throw .invalid("\"archive_base64\" is not valid base64") }
    }
}
