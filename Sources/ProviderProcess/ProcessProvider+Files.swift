import Foundation
import ProviderKit
import ProviderWire

/// Largest file the files verbs move in one call.
let maximumFileBytes = 32 << 20

/// The files verbs on the workspace's `configs/` directory, with ``FilePolicy`` applied through ``LocalFilesRoot``.
extension ProcessProvider: FileServingProvider {
    func listFiles(_ request: ListFilesRequest, context: CallContext) throws -> ListFilesResponse {
        let workspace = try layout.workspace(request.workspaceId).requireExisting()
        guard (1...5).contains(request.depth) else { throw ProviderError.invalidArgument("depth must be between 1 and 5") }
        let base = try RelativePath(request.path, allowRoot: true)
        let (start, observed) = try workspace.filesRoot.resolve(base, for: .list)
        guard observed == .directory else { return ListFilesResponse(files: []) }  // a files root not created yet
        var entries: [FileEntry] = []
        func walk(_ directory: String, _ relative: [String], _ depth: Int) throws {
            try context.checkDeadline("listing files")
            for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() {
                let child = directory + "/" + name
                guard let node = LocalFilesRoot.node(at: child) else { continue }  // removed meanwhile
                entries.append(FilePolicy.entry(path: (relative + [name]).joined(separator: "/"), node: node))
                if node == .directory && depth > 1 { try walk(child, relative + [name], depth - 1) }
            }
        }
        try walk(start, base.components, request.depth)
        return ListFilesResponse(files: entries)
    }

    func readFile(_ request: FilePathRequest, context: CallContext) throws -> FileContent {
        let workspace = try layout.workspace(request.workspaceId).requireExisting()
        let path = try RelativePath(request.path)
        let (location, observed) = try workspace.filesRoot.resolve(path, for: .read)
        if case .file(let size) = observed, size > maximumFileBytes {
            throw ProviderError.invalidArgument("\(path) is \(size) bytes; the limit is \(maximumFileBytes)")
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: location))
        return FileContent(
            path: path.string, size: Int64(data.count), contentBase64: data.base64EncodedString(), mode: LocalFilesRoot.permissions(at: location))
    }

    func writeFile(_ request: WriteFileRequest, context: CallContext) throws -> FileWriteResponse {
        let workspace = try layout.workspace(request.workspaceId).requireExisting()
        let path = try RelativePath(request.path)
        guard let data = Data(base64Encoded: request.contentBase64) else {
            throw ProviderError.invalidArgument("content_base64 is not valid base64")
        }
        if data.count > maximumFileBytes { throw ProviderError.invalidArgument("content is \(data.count) bytes; the limit is \(maximumFileBytes)") }
        let root = workspace.filesRoot
        _ = try root.resolve(path, for: .write)
        try root.createParents(of: path)
        // Checked again once the parents exist; the atomic write renames over the path, never through a link.
        let (location, _) = try root.resolve(path, for: .write)
        try data.write(to: URL(fileURLWithPath: location), options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: request.mode ?? 0o644], ofItemAtPath: location)
        let parents = (1..<max(1, path.components.count)).map { root.path + "/" + path.components.prefix($0).joined(separator: "/") }
        sandbox.handOver(parents + [location], of: workspace, recursive: false)
        return FileWriteResponse(path: path.string, size: Int64(data.count))
    }

    func deleteFile(_ request: FilePathRequest, context: CallContext) throws -> FileWriteResponse {
        let workspace = try layout.workspace(request.workspaceId).requireExisting()
        let path = try RelativePath(request.path)
        let (location, observed) = try workspace.filesRoot.resolve(path, for: .delete)
        try FileManager.default.removeItem(atPath: location)
        return FileWriteResponse(path: path.string, size: FilePolicy.deletedSize(observed))
    }
}
