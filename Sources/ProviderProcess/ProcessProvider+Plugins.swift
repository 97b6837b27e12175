import Foundation
import ProviderKit
import ProviderWire

extension ProcessProvider: PluginHostingProvider {
    func installPlugin(_ request: InstallPluginRequest, context: CallContext) throws -> PluginInfo {
        try RelativePath.validatePluginName(request.name)
        let workspace = try layout.workspace(request.workspaceId).requireExisting()
        guard let bytes = Data(base64Encoded: request.archiveBase64) else {
            throw ProviderError.invalidArgument("archive_base64 is not valid base64")
        }
        let archive = try TarArchive(parsing: [UInt8](bytes))
        _ = try workspace.filesRoot.resolve(try RelativePath("plugins/\(request.name)"), for: .makeDirectory)
        let plugins = workspace.configs.appendingPathComponent("plugins", isDirectory: true)
        try FileManager.default.createDirectory(at: plugins, withIntermediateDirectories: true)
        let staging = plugins.appendingPathComponent(".staging-\(request.name)-\(UUID().uuidString)", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: staging) }
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        let root = LocalFilesRoot(path: staging.path)
        var files = 0
        for entry in archive.entries {
            try context.checkDeadline("unpacking plugin \(request.name)")
            let target = URL(fileURLWithPath: root.location(of: entry.path))
            switch entry.kind {
            case .directory:
                try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
            case .file:
                try root.createParents(of: entry.path)
                try Data(entry.contents).write(to: target)
                try FileManager.default.setAttributes([.posixPermissions: entry.mode & 0o777], ofItemAtPath: target.path)
                files += 1
            case .symlink, .hardlink, .other:
                throw ProviderError.invalidArgument("plugin archive entry \(entry.path) is not a file or directory; links are refused")
            }
        }
        // With per-workspace uids the workload owns its plugin (below); otherwise plugin_uid, when set, as before.
        if let uid = config.pluginUid, geteuid() == 0, !sandbox.separatesUsers { WorkloadSandbox.chownTree(staging.path, uid: uid) }
        let destination = plugins.appendingPathComponent(request.name, isDirectory: true)
        return try locked(request.workspaceId) {
            let observed = try workspace.filesRoot.resolve(try RelativePath("plugins/\(request.name)"), for: .makeDirectory).observation
            if observed == .directory { try FileManager.default.removeItem(at: destination) }
            try FileManager.default.moveItem(at: staging, to: destination)
            sandbox.handOver([plugins.path], of: workspace, recursive: false)
            sandbox.handOver([destination.path], of: workspace)
            return PluginInfo(name: request.name, files: files)
        }
    }

    func uninstallPlugin(_ request: PluginRef, context: CallContext) throws -> PluginInfo {
        try RelativePath.validatePluginName(request.name)
        let workspace = try layout.workspace(request.workspaceId).requireExisting()
        let directory = workspace.configs.appendingPathComponent("plugins/\(request.name)", isDirectory: true)
        let pluginPath = try RelativePath("plugins/\(request.name)")
        do throws(FilePolicy.Violation) {
            _ = try workspace.filesRoot.resolve(pluginPath, for: .uninstallPlugin)
        } catch .notFound(path: _) {
            throw ProviderError.notFound("plugin \(request.name) is not installed on workspace \(request.workspaceId)")
        }
        let files = countFiles(directory)
        try FileManager.default.removeItem(at: directory)
        return PluginInfo(name: request.name, files: files)
    }

    func listPlugins(_ request: WorkspaceRef, context: CallContext) throws -> ListPluginsResponse {
        let workspace = try layout.workspace(request.workspaceId).requireExisting()
        let plugins = workspace.configs.appendingPathComponent("plugins", isDirectory: true)
        _ = try workspace.filesRoot.resolve(try RelativePath("plugins"), for: .listPlugins)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: plugins.path)) ?? []).filter { !$0.hasPrefix(".") }
        return ListPluginsResponse(
            plugins: names.sorted().map { PluginInfo(name: $0, files: countFiles(plugins.appendingPathComponent($0))) }
        )
    }

    private func countFiles(_ directory: URL) -> Int {
        guard let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey]) else {
            return 0
        }
        var count = 0
        for case let url as URL in enumerator where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
            count += 1
        }
        return count
    }
}
