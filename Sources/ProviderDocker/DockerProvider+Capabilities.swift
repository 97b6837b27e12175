import Foundation
import ProviderHTTP
import ProviderKit
import ProviderWire

extension DockerProvider: PausingProvider {
    func pause(_ request: WorkspaceRef, context: CallContext) throws -> InspectResponse {
        try changeState(request, to: .paused, verb: "pause", context: context)
    }

    func resume(_ request: WorkspaceRef, context: CallContext) throws -> InspectResponse {
        try changeState(request, to: .running, verb: "unpause", context: context)
    }

    private func changeState(_ request: WorkspaceRef, to target: InstanceState, verb: String, context: CallContext) throws -> InspectResponse {
        guard let container = try inspectContainer(request.workspaceId, context: context) else {
            throw ProviderError.notFound("workspace \(request.workspaceId) has no container")
        }
        if Self.state(of: container) != target {
            try engine.check(try engine.request("POST", "/containers/\(try containerName(request.workspaceId))/\(verb)", context: context), verb)
        }
        return InspectResponse(state: target, instanceRef: container["Id"]?.stringValue, address: address(of: container))
    }
}

extension DockerProvider: FileServingProvider {
    /// Files live in the configs volume; the archive API reaches it whether the container runs, is paused or stopped.
    func requireContainer(_ workspaceId: String, context: CallContext) throws -> String {
        guard try inspectContainer(workspaceId, context: context) != nil else {
            throw ProviderError.notFound("workspace \(workspaceId) has no container (its files are reachable while it is provisioned)")
        }
        return try containerName(workspaceId)
    }

    /// The tar of `/configs/<path>` (its entries start with the last path component), or NOT_FOUND.
    func getArchive(_ container: String, _ path: RelativePath, context: CallContext) throws -> TarArchive {
        let absolute = Self.volumePath(path)
        let reply = try engine.request("GET", "/containers/\(container)/archive?path=\(absolute.queryEscaped)", context: context)
        if reply.status == 404 { throw FilePolicy.Violation.notFound(path: path.string) }
        return try TarArchive(parsing: try engine.check(reply, "read \(absolute)").body, limits: .engine)
    }

    func listFiles(_ request: ListFilesRequest, context: CallContext) throws -> ListFilesResponse {
        guard (1...5).contains(request.depth) else { throw ProviderError.invalidArgument("depth must be between 1 and 5") }
        let base = try RelativePath(request.path, allowRoot: true)
        let container = try requireContainer(request.workspaceId, context: context)
        try resolve(base, in: container, for: .list, context: context)
        let archive = try getArchive(container, base, context: context)
        var files: [FileEntry] = []
        for entry in archive.entries {
            let inside = Array(entry.path.components.dropFirst())  // drop the archived directory's own name
            guard !inside.isEmpty, inside.count <= request.depth else { continue }
            // The archive never descends into a link: what is under one is not there to list.
            let node: FilePolicy.Node =
                switch entry.kind {
                case .file: .file(size: Int64(entry.contents.count))
                case .directory: .directory
                case .symlink: .link
                case .hardlink, .other: .other
                }
            files.append(FilePolicy.entry(path: (base.components + inside).joined(separator: "/"), node: node))
        }
        return ListFilesResponse(files: files.sorted { $0.path < $1.path })
    }

    func readFile(_ request: FilePathRequest, context: CallContext) throws -> FileContent {
        let path = try RelativePath(request.path)
        let container = try requireContainer(request.workspaceId, context: context)
        try resolve(path, in: container, for: .read, context: context)
        let archive = try getArchive(container, path, context: context)
        guard let entry = archive.entries.first, entry.path.components.count == 1, entry.kind == .file else {
            throw FilePolicy.Violation.notRegularFile(path: path.string)  // it changed between the stat and the read
        }
        return FileContent(
            path: path.string, size: Int64(entry.contents.count), contentBase64: Data(entry.contents).base64EncodedString(),
            mode: Int(entry.mode & 0o7777))
    }

    func writeFile(_ request: WriteFileRequest, context: CallContext) throws -> FileWriteResponse {
        let path = try RelativePath(request.path)
        guard let data = Data(base64Encoded: request.contentBase64) else { throw ProviderError.invalidArgument("content_base64 is not valid base64") }
        let container = try requireContainer(request.workspaceId, context: context)
        try resolve(path, in: container, for: .write, context: context)
        var entries: [TarArchive.Entry] = []
        for depth in 1..<path.components.count {
            entries.append(
                .init(
                    path: try RelativePath("configs/" + path.components.prefix(depth).joined(separator: "/")), kind: .directory, mode: 0o755,
                    uid: config.pluginUid, gid: config.pluginUid))
        }
        entries.append(
            .init(
                path: try RelativePath("configs/" + path.string), kind: .file, mode: request.mode ?? 0o644, contents: [UInt8](data),
                uid: config.pluginUid, gid: config.pluginUid))
        try putArchive(container, path: "/", tar: TarArchive(entries: entries).serialized(), context: context)
        return FileWriteResponse(path: path.string, size: Int64(data.count))
    }

    func deleteFile(_ request: FilePathRequest, context: CallContext) throws -> FileWriteResponse {
        let path = try RelativePath(request.path)
        let container = try requireContainer(request.workspaceId, context: context)
        let observed = try resolve(path, in: container, for: .delete, context: context)
        try removeInVolume(request.workspaceId, container: container, path: Self.volumePath(path), context: context)
        return FileWriteResponse(path: path.string, size: FilePolicy.deletedSize(observed))
    }

    /// `rm -rf` inside the configs volume: by exec in the running container, else in a short-lived helper container
    /// of the workspace's own image with the volume mounted (the archive API cannot delete).
    func removeInVolume(_ workspaceId: String, container: String, path: String, context: CallContext) throws {
        let inspected = try inspectContainer(workspaceId, context: context)
        if let inspected, Self.state(of: inspected) == .running {
            let result = try exec(container, ["rm", "-rf", "--", path], context: context)
            guard result.exitCode == 0 else { throw ProviderError.internal("rm \(path) failed (exit \(result.exitCode)): \(result.output)") }
            return
        }
        guard let image = inspected?["Config"]?["Image"]?.stringValue else {
            throw ProviderError.notFound("workspace \(workspaceId) has no container")
        }
        try runHelper(image: image, volume: try volumeName(workspaceId), command: ["rm", "-rf", "--", path], context: context)
    }
}

extension DockerProvider: PluginHostingProvider {
    func installPlugin(_ request: InstallPluginRequest, context: CallContext) throws -> PluginInfo {
        try RelativePath.validatePluginName(request.name)
        guard let bytes = Data(base64Encoded: request.archiveBase64) else {
            throw ProviderError.invalidArgument("archive_base64 is not valid base64")
        }
        let archive = try TarArchive(parsing: [UInt8](bytes))
        let container = try requireContainer(request.workspaceId, context: context)
        let existing = try resolve(try RelativePath("plugins/\(request.name)"), in: container, for: .makeDirectory, context: context)
        var entries: [TarArchive.Entry] = [
            .init(path: try RelativePath("configs/plugins"), kind: .directory, mode: 0o755, uid: config.pluginUid, gid: config.pluginUid),
            .init(
                path: try RelativePath("configs/plugins/\(request.name)"), kind: .directory, mode: 0o755, uid: config.pluginUid, gid: config.pluginUid
            ),
        ]
        var files = 0
        for entry in archive.entries {
            switch entry.kind {
            case .file: files += 1
            case .directory: break
            default: throw ProviderError.invalidArgument("plugin archive entry \(entry.path) is not a file or directory; links are refused")
            }
            var copy = entry
            copy.path = try RelativePath("configs/plugins/\(request.name)/" + entry.path.string)
            copy.uid = config.pluginUid
            copy.gid = config.pluginUid
            entries.append(copy)
        }
        if existing == .directory {
            try removeInVolume(request.workspaceId, container: container, path: "/configs/plugins/\(request.name)", context: context)
        }
        try putArchive(container, path: "/", tar: TarArchive(entries: entries).serialized(), context: context)
        return PluginInfo(name: request.name, files: files)
    }

    func uninstallPlugin(_ request: PluginRef, context: CallContext) throws -> PluginInfo {
        try RelativePath.validatePluginName(request.name)
        let container = try requireContainer(request.workspaceId, context: context)
        let pluginPath = try RelativePath("plugins/\(request.name)")
        do {
            try resolve(pluginPath, in: container, for: .uninstallPlugin, context: context)
        } catch FilePolicy.Violation.notFound(path: _) {
            throw ProviderError.notFound("plugin \(request.name) is not installed on workspace \(request.workspaceId)")
        }
        let archive = try getArchive(container, pluginPath, context: context)
        try removeInVolume(request.workspaceId, container: container, path: "/configs/plugins/\(request.name)", context: context)
        return PluginInfo(name: request.name, files: archive.entries.filter { $0.kind == .file }.count)
    }

    func listPlugins(_ request: WorkspaceRef, context: CallContext) throws -> ListPluginsResponse {
        let container = try requireContainer(request.workspaceId, context: context)
        let plugins = try RelativePath("plugins")
        guard try resolve(plugins, in: container, for: .listPlugins, context: context) == .directory else { return ListPluginsResponse(plugins: []) }
        let archive = try getArchive(container, plugins, context: context)
        var counts: [String: Int] = [:]
        for entry in archive.entries where entry.path.components.count >= 2 {
            let name = entry.path.components[1]
            guard !name.hasPrefix(".") else { continue }
            counts[name, default: 0] += entry.kind == .file ? 1 : 0
        }
        return ListPluginsResponse(plugins: counts.keys.sorted().map { PluginInfo(name: $0, files: counts[$0]!) })
    }
}

extension DockerProvider: StorageOwningProvider {
    func removeStorage(_ request: WorkspaceRef, context: CallContext) throws -> RemoveStorageResponse {
        let volume = try volumeName(request.workspaceId)
        let reply = try engine.request("DELETE", "/volumes/\(volume)", context: context)
        if reply.status == 404 { return RemoveStorageResponse(removed: false) }
        if reply.status == 409 { throw ProviderError.conflict("volume \(volume) is in use; stop the workspace before removing its storage") }
        try engine.check(reply, "remove volume \(volume)")
        return RemoveStorageResponse(removed: true)
    }
}
