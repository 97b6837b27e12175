import Foundation
import ProviderWire

/// Workspace templates: directories under a configured root (`templates_dir`), each a set of files — `config.yaml`,
/// prompts, skills — copied into a workspace's files root before its command first starts, on every provider (as the
/// provision request's seed archive).
///
/// A template's name follows the plugin-name rule (no path separators, no dot names); its files follow the files API's
/// path rules. Links are never followed: a template is read as the regular files and directories it holds, bounded in
/// count and size like an upload.
public struct TemplateLibrary: Sendable {
    /// What `GET /templates` lists.
    public struct Template: Sendable, Codable, Hashable {
        public var name: String
        public var files: Int
        public var bytes: Int
    }

    /// Why a template cannot be used.
    public enum TemplateError: Error, Sendable, CustomStringConvertible {
        case notFound(String)
        case invalid(name: String, reason: String)

        public var description: String {
            switch self {
            case .notFound(let name): "template \"\(name)\" does not exist"
            case .invalid(let name, let reason): "template \"\(name)\" cannot be used: \(reason)"
            }
        }
    }

    /// The templates root (nil: no templates configured).
    public let root: String?
    /// Most files, and most bytes, one template may hold.
    public static let maximumFiles = 10_000
    public static let maximumBytes = 32 << 20

    public init(root: String?) { self.root = root }

    /// Every template under the root, by name.
    public func list() -> [Template] {
        guard let root else { return [] }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted()
        return names.compactMap { name in try? check(name) }
    }

    /// The template's listing — every path checked, no file read: what a create validates and `GET /templates` shows.
    public func check(_ name: String) throws(TemplateError) -> Template {
        var files = 0
        var bytes = 0
        try walk(name, reading: false) { entry, size in
            if entry.kind == .file {
                files += 1
                bytes += size
            }
        }
        return Template(name: name, files: files, bytes: bytes)
    }

    /// The template's files and directories, as archive entries relative to the files root.
    public func entries(of name: String) throws(TemplateError) -> [TarArchive.Entry] {
        var entries: [TarArchive.Entry] = []
        try walk(name, reading: true) { entry, _ in entries.append(entry) }
        return entries
    }

    /// Walks the template, bounded in entries and bytes, refusing anything but regular files and directories; file
    /// contents are read only when `reading`.
    private func walk(_ name: String, reading: Bool, _ visit: (TarArchive.Entry, Int) -> Void) throws(TemplateError) {
        do { try RelativePath.validatePluginName(name) } catch { throw .invalid(name: name, reason: "\(error)") }
        guard let root else { throw .notFound(name) }
        let directory = root + "/" + name
        var info = stat()
        guard lstat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { throw .notFound(name) }
        var count = 0
        var bytes = 0
        func walk(_ path: String, _ relative: [String]) throws(TemplateError) {
            let children = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
            for child in children {
                let full = path + "/" + child
                let components = relative + [child]
                var node = stat()
                guard lstat(full, &node) == 0 else { continue }
                let kind = node.st_mode & S_IFMT
                guard kind == S_IFDIR || kind == S_IFREG else {
                    throw .invalid(name: name, reason: "\(components.joined(separator: "/")) is not a regular file or directory (links are refused)")
                }
                let relativePath: RelativePath
                do { relativePath = try RelativePath(components.joined(separator: "/")) } catch {
                    throw .invalid(name: name, reason: "\(error)")
                }
                count += 1
                guard count <= Self.maximumFiles else { throw .invalid(name: name, reason: "more than \(Self.maximumFiles) entries") }
                let mode = Int(node.st_mode & 0o777)
                if kind == S_IFDIR {
                    visit(.init(path: relativePath, kind: .directory, mode: mode), 0)
                    try walk(full, components)
                } else {
                    bytes += Int(node.st_size)
                    guard bytes <= Self.maximumBytes else { throw .invalid(name: name, reason: "larger than \(Self.maximumBytes >> 20) MiB") }
                    var contents: [UInt8] = []
                    if reading {
                        guard let data = FileManager.default.contents(atPath: full), data.count == Int(node.st_size) else {
                            throw .invalid(name: name, reason: "\(relativePath.string) is not readable (or changed while read)")
                        }
                        contents = [UInt8](data)
                    }
                    visit(.init(path: relativePath, kind: .file, mode: mode, contents: contents), Int(node.st_size))
                }
            }
        }
        try walk(directory, [])
    }

    /// The template as a provision request's `seed_archive` (a base64 tar).
    public func seedArchive(of name: String) throws(TemplateError) -> String {
        Data(TarArchive(entries: try entries(of: name)).serialized()).base64EncodedString()
    }
}
