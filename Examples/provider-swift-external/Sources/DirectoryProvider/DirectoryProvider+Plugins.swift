import Foundation
import ProviderKit
import ProviderWire

/// The plugin verbs: a plugin is the contents of a POSIX tar archive unpacked into `files/plugins/<name>`, under the
/// same ``FilePolicy`` as the files verbs (a `plugins` that is a link is refused, never written through). The archive
/// is unpacked into a staging directory first and renamed into place, so a refused archive changes nothing and a
/// reinstall replaces the old plugin whole.
extension DirectoryProvider: PluginHostingProvider {
    func installPlugin(_ request: InstallPluginRequest, context: CallContext) throws -> PluginInfo {
        try RelativePath.validatePluginName(request.name)
        guard let bytes = Data(base64Encoded: request.archiveBase64) else {
            throw ProviderError.invalidArgument("archive_base64 is not valid base64")
        }
        let archive = try TarArchive(parsing: [UInt8](bytes))
        let workspace = try state.workspace(request.workspaceId)
        let pluginPath = try RelativePath("plugins/\(request.name)")
        return try state.locked(.write, context: context) {
            _ = try workspace.requireRecord()
            _ = try workspace.filesRoot.resolve(pluginPath, for: .makeDirectory)
            try workspace.filesRoot.createParents(of: pluginPath)
            let staging = workspace.plugins.appendingPathComponent(".staging-\(UUID().uuidString)", isDirectory: true)
            defer { try? FileManager.default.removeItem(at: staging) }
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: false)
            let files = try LocalFilesRoot(path: staging.path).unpack(archive, context: context)
            let (destination, observed) = try workspace.filesRoot.resolve(pluginPath, for: .makeDirectory)
            if observed == .directory { try FileManager.default.removeItem(atPath: destination) }
            try FileManager.default.moveItem(atPath: staging.path, toPath: destination)
            return PluginInfo(name: request.name, files: files)
        }
    }

    func uninstallPlugin(_ request: PluginRef, context: CallContext) throws -> PluginInfo {
        try RelativePath.validatePluginName(request.name)
        let workspace = try state.workspace(request.workspaceId)
        let pluginPath = try RelativePath("plugins/\(request.name)")
        return try state.locked(.write, context: context) {
            _ = try workspace.requireRecord()
            let directory: String
            do throws(FilePolicy.Violation) {
                directory = try workspace.filesRoot.resolve(pluginPath, for: .uninstallPlugin).location
            } catch .notFound(path: _) {
                throw ProviderError.notFound("plugin \(request.name) is not installed on workspace \(workspace.id)")
            }
            let files = Self.countFiles(in: directory)
            try FileManager.default.removeItem(atPath: directory)
            return PluginInfo(name: request.name, files: files)
        }
    }

    func listPlugins(_ request: WorkspaceRef, context: CallContext) throws -> ListPluginsResponse {
        let workspace = try state.workspace(request.workspaceId)
        return try state.locked(.read, context: context) {
            _ = try workspace.requireRecord()
            let (plugins, observed) = try workspace.filesRoot.resolve(try RelativePath("plugins"), for: .listPlugins)
            guard observed == .directory else { return ListPluginsResponse(plugins: []) }
            let names = try FileManager.default.contentsOfDirectory(atPath: plugins).filter { !$0.hasPrefix(".") }.sorted()
            return ListPluginsResponse(plugins: names.map { PluginInfo(name: $0, files: Self.countFiles(in: plugins + "/" + $0)) })
        }
    }

    /// How many regular files are below `directory` (links are neither counted nor followed).
    static func countFiles(in directory: String) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.reduce(0) { count, name in
            switch LocalFilesRoot.node(at: directory + "/" + name) {
            case .file?: count + 1
            case .directory?: count + countFiles(in: directory + "/" + name)
            default: count
            }
        }
    }
}
