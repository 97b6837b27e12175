/// `list_files`: entries under `path` (relative to the workspace's files root, `""` = the root), up to `depth` levels.
public struct ListFilesRequest: Sendable, Hashable, Codable {
    public var workspaceId: String
    public var path: String
    public var depth: Int
    public init(workspaceId: String, path: String = "", depth: Int = 1) {
        self.workspaceId = workspaceId
        self.path = path
        self.depth = depth
    }
    enum CodingKeys: String, CodingKey {
        case workspaceId = "workspace_id"
        case path, depth
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        workspaceId = try c.decode(String.self, forKey: .workspaceId)
        path = try c.decodeIfPresent(String.self, forKey: .path) ?? ""
        depth = try c.decodeIfPresent(Int.self, forKey: .depth) ?? 1
    }
}

/// One entry of a listing (Molecule's `{"path","size","dir"}`).
public struct FileEntry: Sendable, Hashable, Codable {
    public var path: String
    public var size: Int64
    public var dir: Bool
    public init(path: String, size: Int64, dir: Bool) {
        self.path = path
        self.size = size
        self.dir = dir
    }
}

/// `list_files` response.
public struct ListFilesResponse: Sendable, Hashable, Codable {
    public var files: [FileEntry]
    public init(files: [FileEntry]) { self.files = files }
}

/// `read_file`, `delete_file`: a path relative to the files root.
public struct FilePathRequest: Sendable, Hashable, Codable {
    public var workspaceId: String
    public var path: String
    public init(workspaceId: String, path: String) {
        self.workspaceId = workspaceId
        self.path = path
    }
    enum CodingKeys: String, CodingKey {
        case workspaceId = "workspace_id"
        case path
    }
}

/// `read_file` response: the bytes, base64 so any content survives JSON, and the file's permission bits.
public struct FileContent: Sendable, Hashable, Codable {
    public var path: String
    public var size: Int64
    public var contentBase64: String
    /// The permission bits (`0o644` is 420): what `write_file`'s `mode` set, as a snapshot or a pause keeps it.
    public var mode: Int?
    public init(path: String, size: Int64, contentBase64: String, mode: Int? = nil) {
        self.path = path
        self.size = size
        self.contentBase64 = contentBase64
        self.mode = mode
    }
    enum CodingKeys: String, CodingKey {
        case path, size
        case contentBase64 = "content_base64"
        case mode
    }
}

/// `write_file`: creates parent directories; replaces an existing file.
public struct WriteFileRequest: Sendable, Hashable, Codable {
    public var workspaceId: String
    public var path: String
    public var contentBase64: String
    /// POSIX permission bits; default 0644.
    public var mode: Int?
    public init(workspaceId: String, path: String, contentBase64: String, mode: Int? = nil) {
        self.workspaceId = workspaceId
        self.path = path
        self.contentBase64 = contentBase64
        self.mode = mode
    }
    enum CodingKeys: String, CodingKey {
        case workspaceId = "workspace_id"
        case path
        case contentBase64 = "content_base64"
        case mode
    }
}

/// `write_file`, `delete_file` response.
public struct FileWriteResponse: Sendable, Hashable, Codable {
    public var path: String
    public var size: Int64
    public init(path: String, size: Int64) {
        self.path = path
        self.size = size
    }
}
