/// `install_plugin`: unpack a POSIX tar archive into `<files root>/plugins/<name>`, replacing an older copy.
/// Entries with absolute paths, `..` components or links leaving the plugin directory are refused.
public struct InstallPluginRequest: Sendable, Hashable, Codable {
    public var workspaceId: String
    public var name: String
    public var archiveBase64: String
    public init(workspaceId: String, name: String, archiveBase64: String) {
        self.workspaceId = workspaceId
        self.name = name
        self.archiveBase64 = archiveBase64
    }
    enum CodingKeys: String, CodingKey {
        case workspaceId = "workspace_id"
        case name
        case archiveBase64 = "archive_base64"
    }
}

/// `uninstall_plugin`: remove `<files root>/plugins/<name>`. An unknown plugin is NOT_FOUND.
public struct PluginRef: Sendable, Hashable, Codable {
    public var workspaceId: String
    public var name: String
    public init(workspaceId: String, name: String) {
        self.workspaceId = workspaceId
        self.name = name
    }
    enum CodingKeys: String, CodingKey {
        case workspaceId = "workspace_id"
        case name
    }
}

/// An installed plugin.
public struct PluginInfo: Sendable, Hashable, Codable {
    public var name: String
    /// Number of regular files in the plugin directory.
    public var files: Int
    public init(name: String, files: Int) {
        self.name = name
        self.files = files
    }
}

/// `list_plugins` response, sorted by name.
public struct ListPluginsResponse: Sendable, Hashable, Codable {
    public var plugins: [PluginInfo]
    public init(plugins: [PluginInfo]) { self.plugins = plugins }
}
