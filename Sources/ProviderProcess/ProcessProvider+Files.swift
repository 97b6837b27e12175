import Foundation
import ProviderKit
import ProviderWire

/// Largest file the files verbs move in one call.
let maximumFileBytes = 32 << 20

extension ProcessProvider: FileServingProvider {
    func listFiles(_ request: ListFilesRequest, context: CallContext) throws -> ListFilesResponse {
        let workspace = try layout.workspace(request.workspaceId).requireExisting()
        guard (1...5).contains(request.depth) else { throw ProviderError.invalidArgument("depth must be between 1 and 5") }
        let base = try RelativePath(request.path, allowRoot: true)
        let start = try FilesRoot(workspace.configs).resolve(base)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: start.path, isDirectory: &isDirectory) else {
            throw ProviderError.notFound("\(base.isRoot ? "files root" : base.string) not found")
        }
        guard isDirectory.boolValue else { throw ProviderError.invalidArgument("\(base.string) is not a directory") }
        var entries: [FileEntry] = []
        func walk(_ url: URL, _ relative: [String], _ depth: Int) throws {
            try context.checkDeadline("listing files")
            let names = try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
            for name in names {
                let child = url.appendingPathComponent(name)
                let attributes = try FileManager.default.attributesOfItem(atPath: child.path)
                let isDir = attributes[.type] as? FileAttributeType == .typeDirectory
                let path = (relative + [name]).joined(separator: "/")
                entries.append(FileEntry(path: path, size: (attributes[.size] as? Int64) ?? 0, dir: isDir))
                if isDir && depth > 1 { try walk(child, relative + [name], depth - 1) }
            }
        }
        try walk(start, base.components, request.depth)
        return ListFilesResponse(files: entries)
    }

    func readFile(_ request: FilePathRequest, context: CallContext) throws -> FileContent {
        let workspace = try layout.workspace(request.workspaceId).requireExisting()
        let path = try RelativePath(request.path)
        let url = try FilesRoot(workspace.configs).resolve(path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ProviderError.notFound("file \(path) not found on workspace \(request.workspaceId)")
        }
        if isDirectory.boolValue { throw ProviderError.invalidArgument("\(path) is a directory") }
        let size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        if size > maximumFileBytes { throw ProviderError.invalidArgument("\(path) is \(size) bytes; the limit is \(maximumFileBytes)") }
        let data = try Data(contentsOf: url)
        return FileContent(path: path.string, size: Int64(data.count), contentBase64: data.base64EncodedString())
    }

    func writeFile(_ request: WriteFileRequest, context: CallContext) throws -> FileWriteResponse {
        let workspace = try layout.workspace(request.workspaceId).requireExisting()
        let path = try RelativePath(request.path)
        guard let data = Data(base64Encoded: request.contentBase64) else {
            throw ProviderError.invalidArgument("content_base64 is not valid base64")
        }
        if data.count > maximumFileBytes { throw ProviderError.invalidArgument("content is \(data.count) bytes; the limit is \(maximumFileBytes)") }
        let root = FilesRoot(workspace.configs)
        let url = try root.resolve(path)
        try root.createParents(of: path)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ProviderError.conflict("\(path) is a directory")
        }
        try data.write(to: url, options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: request.mode ?? 0o644], ofItemAtPath: url.path)
        return FileWriteResponse(path: path.string, size: Int64(data.count))
    }

    func deleteFile(_ request: FilePathRequest, context: CallContext) throws -> FileWriteResponse {
        let workspace = try layout.workspace(request.workspaceId).requireExisting()
        let path = try RelativePath(request.path)
        let url = try FilesRoot(workspace.configs).resolve(path)
        var status = stat()
        guard lstat(url.path, &status) == 0 else { throw ProviderError.notFound("file \(path) not found on workspace \(request.workspaceId)") }
        try FileManager.default.removeItem(at: url)
        return FileWriteResponse(path: path.string, size: Int64(status.st_size))
    }
}

/// A workspace's files root. Resolving refuses any existing symlink on the way, so no path can lead outside.
struct FilesRoot {
    let url: URL
    init(_ url: URL) { self.url = url }

    func resolve(_ path: RelativePath) throws(ProviderError) -> URL {
        var current = url
        for component in path.components {
            current = current.appendingPathComponent(component)
            var status = stat()
            if lstat(current.path, &status) == 0, status.st_mode & S_IFMT == S_IFLNK {
                throw .invalidArgument("\(path) passes through a symbolic link; links are not followed")
            }
        }
        return current
    }

    func createParents(of path: RelativePath) throws {
        guard path.components.count > 1 else { return }
        let parent = try resolve(try RelativePath(path.components.dropLast().joined(separator: "/")))
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
    }
}
