import Foundation
import ProviderKit
import ProviderWire

/// The files verbs, relative to the workspace's `files/` directory. Paths are validated by ``RelativePath`` (no
/// absolute paths, no `..`) and checked by ProviderKit's ``FilePolicy`` through ``LocalFilesRoot`` — links are never
/// followed, and directories, files and missing paths answer as on every other provider.
extension DirectoryProvider: FileServingProvider {
    /// Largest file one call moves.
    static let maximumFileBytes = 32 << 20

    func listFiles(_ request: ListFilesRequest, context: CallContext) throws -> ListFilesResponse {
        let base = try RelativePath(request.path, allowRoot: true)
        guard (1...5).contains(request.depth) else { throw ProviderError.invalidArgument("depth must be between 1 and 5") }
        let workspace = try state.workspace(request.workspaceId)
        return try state.locked(.read, context: context) {
            _ = try workspace.requireRecord()
            let (start, observed) = try workspace.filesRoot.resolve(base, for: .list)
            guard observed == .directory else { return ListFilesResponse(files: []) }  // a files root not created yet
            var entries: [FileEntry] = []
            func walk(_ directory: String, _ components: [String], _ depth: Int) throws {
                try context.checkDeadline("listing files")
                for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() {
                    let child = directory + "/" + name
                    guard let node = LocalFilesRoot.node(at: child) else { continue }
                    entries.append(FilePolicy.entry(path: (components + [name]).joined(separator: "/"), node: node))
                    if node == .directory && depth > 1 { try walk(child, components + [name], depth - 1) }
                }
            }
            try walk(start, base.components, request.depth)
            return ListFilesResponse(files: entries)
        }
    }

    func readFile(_ request: FilePathRequest, context: CallContext) throws -> FileContent {
        let path = try RelativePath(request.path)
        let workspace = try state.workspace(request.workspaceId)
        return try state.locked(.read, context: context) {
            _ = try workspace.requireRecord()
            let (location, observed) = try workspace.filesRoot.resolve(path, for: .read)
            if case .file(let size) = observed, size > Self.maximumFileBytes {
                throw ProviderError.invalidArgument("\(path) is \(size) bytes; the limit is \(Self.maximumFileBytes)")
            }
            let data = try Data(contentsOf: URL(fileURLWithPath: location))
            return FileContent(
                path: path.string, size: Int64(data.count), contentBase64: data.base64EncodedString(), mode: LocalFilesRoot.permissions(at: location))
        }
    }

    func writeFile(_ request: WriteFileRequest, context: CallContext) throws -> FileWriteResponse {
        let path = try RelativePath(request.path)
        guard let data = Data(base64Encoded: request.contentBase64) else { throw ProviderError.invalidArgument("content_base64 is not valid base64") }
        guard data.count <= Self.maximumFileBytes else {
            throw ProviderError.invalidArgument("content is \(data.count) bytes; the limit is \(Self.maximumFileBytes)")
        }
        let workspace = try state.workspace(request.workspaceId)
        return try state.locked(.write, context: context) {
            _ = try workspace.requireRecord()
            let root = workspace.filesRoot
            _ = try root.resolve(path, for: .write)
            try root.createParents(of: path)
            // Checked again once the parents exist; the atomic write renames over the path, never writes through a link.
            let (location, _) = try root.resolve(path, for: .write)
            try data.write(to: URL(fileURLWithPath: location), options: .atomic)
            try FileManager.default.setAttributes([.posixPermissions: (request.mode ?? 0o644) & 0o777], ofItemAtPath: location)
            return FileWriteResponse(path: path.string, size: Int64(data.count))
        }
    }

    func deleteFile(_ request: FilePathRequest, context: CallContext) throws -> FileWriteResponse {
        let path = try RelativePath(request.path)
        let workspace = try state.workspace(request.workspaceId)
        return try state.locked(.write, context: context) {
            _ = try workspace.requireRecord()
            let (location, observed) = try workspace.filesRoot.resolve(path, for: .delete)
            try FileManager.default.removeItem(atPath: location)
            return FileWriteResponse(path: path.string, size: FilePolicy.deletedSize(observed))
        }
    }
}
