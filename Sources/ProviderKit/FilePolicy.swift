import ProviderWire

/// The one policy for paths in a workspace's files root, shared by every provider so the files verbs answer the same
/// on every backend (the contract suite's `files.kinds` and `files.links` cases hold them to it; `docs/provider-abi.md`
/// "File paths and links" states it):
///
/// - **Links are never followed.** A path with a symbolic link at any component — a parent or the path itself, whether
///   the link points inside the root or out of it — is INVALID_ARGUMENT on every files and plugin verb. A listing
///   shows a link as an entry (`dir: false`, `size: 0`) and never descends into it.
/// - **read_file** needs a regular file: a directory or another kind (fifo, socket, device) is INVALID_ARGUMENT;
///   a missing path, or one under a file, is NOT_FOUND.
/// - **write_file** creates the missing parents and replaces a regular file: over a directory or another kind it is
///   INVALID_ARGUMENT, and so is a path under an existing file.
/// - **delete_file** removes a file, or a directory with everything in it (links inside are removed, never followed),
///   answering size 0 for a directory; a missing path, or one under a file, is NOT_FOUND.
/// - **list_files** needs a directory: a file or another kind is INVALID_ARGUMENT; a missing path is NOT_FOUND (the
///   files root itself lists as empty). Directories and links are listed with size 0.
/// - The plugin verbs apply the same rules to `plugins/` and `plugins/<name>` (install makes or replaces a directory,
///   uninstall needs one, a missing `plugins/` lists no plugin).
///
/// A provider observes the path without following links (``observe(_:stat:)`` with lstat, a backend's path stat, or
/// ``shellFunctions`` in a remote shell), then asks ``check(_:_:path:)`` before it acts.
public enum FilePolicy {
    /// What a verb does with a path.
    public enum Operation: Sendable, Hashable, CaseIterable {
        case read
        case write
        case delete
        case list
        /// A directory is made or replaced there (`install_plugin` on `plugins/<name>`, a restored directory).
        case makeDirectory
        /// `uninstall_plugin` on `plugins/<name>`: removes a directory.
        case uninstallPlugin
        /// `list_plugins` on `plugins`: a missing directory lists as empty.
        case listPlugins
    }

    /// The kind of one component, as a backend reports it without following a link.
    public enum Node: Sendable, Hashable {
        case file(size: Int64)
        case directory
        case link
        /// A fifo, socket or device.
        case other
    }

    /// What a path is, observed component by component from the files root without following a link.
    public enum Observation: Sendable, Hashable {
        /// The path, or one of its parents, does not exist.
        case absent
        /// Its first `depth` components name something that is not a directory, with components after it.
        case blocked(depth: Int)
        /// Its first `depth` components name a symbolic link.
        case link(depth: Int)
        case file(size: Int64)
        case directory
        /// A fifo, socket or device.
        case other
    }

    /// Walks `path` from the root. `stat` answers the node named by the first components it is given, or `nil` when
    /// nothing is there; the walk stops at the first absent component, link, or non-directory with components after it.
    public static func observe<E: Error>(_ path: RelativePath, stat: ([String]) throws(E) -> Node?) throws(E) -> Observation {
        guard !path.isRoot else { return .directory }
        for depth in 1...path.components.count {
            guard let node = try stat(Array(path.components.prefix(depth))) else { return .absent }
            let last = depth == path.components.count
            switch node {
            case .link: return .link(depth: depth)
            case .directory: if last { return .directory }
            case .file(let size): return last ? .file(size: size) : .blocked(depth: depth)
            case .other: return last ? .other : .blocked(depth: depth)
            }
        }
        return .directory
    }

    /// Returns when `operation` may act on `path` as observed; otherwise throws the policy's answer.
    public static func check(_ operation: Operation, _ observation: Observation, path: RelativePath) throws(Violation) {
        func prefix(_ depth: Int) -> String { path.components.prefix(depth).joined(separator: "/") }
        switch observation {
        case .link(let depth):
            throw .link(path: path.string, link: prefix(depth))
        case .absent:
            switch operation {
            case .write, .makeDirectory, .listPlugins: return
            case .list where path.isRoot: return
            default: throw .notFound(path: path.string)
            }
        case .blocked(let depth):
            switch operation {
            case .write, .makeDirectory: throw .underFile(path: path.string, file: prefix(depth))
            default: throw .notFound(path: path.string)
            }
        case .file:
            switch operation {
            case .read, .write, .delete: return
            default: throw .notDirectory(path: path.string)
            }
        case .directory:
            switch operation {
            case .read, .write: throw .isDirectory(path: path.string)
            default: return
            }
        case .other:
            switch operation {
            case .delete: return
            case .read, .write: throw .notRegularFile(path: path.string)
            default: throw .notDirectory(path: path.string)
            }
        }
    }

    /// The listing entry for `node` at `path`: directories and links have size 0, and only a directory is `dir`.
    public static func entry(path: String, node: Node) -> FileEntry {
        switch node {
        case .file(let size): FileEntry(path: path, size: size, dir: false)
        case .directory: FileEntry(path: path, size: 0, dir: true)
        case .link, .other: FileEntry(path: path, size: 0, dir: false)
        }
    }

    /// The size `delete_file` answers for what it removed: a file's size, 0 for anything else.
    public static func deletedSize(_ observation: Observation) -> Int64 {
        if case .file(let size) = observation { return size }
        return 0
    }
}
