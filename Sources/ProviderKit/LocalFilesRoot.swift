import ProviderWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A files root on the provider's own file system, with ``FilePolicy`` applied through `lstat` (never following a
/// link): what the Process provider serves its files verbs from.
public struct LocalFilesRoot: Sendable {
    /// The root directory's absolute path.
    public let path: String

    public init(path: String) { self.path = path }

    /// The absolute location of `relative` (not checked).
    public func location(of relative: RelativePath) -> String {
        relative.isRoot ? path : path + "/" + relative.string
    }

    /// What is at an absolute location, without following a link; `nil` when nothing is.
    public static func node(at location: String) -> FilePolicy.Node? {
        var status = stat()
        guard lstat(location, &status) == 0 else { return nil }
        switch status.st_mode & S_IFMT {
        case S_IFLNK: return .link
        case S_IFDIR: return .directory
        case S_IFREG: return .file(size: Int64(status.st_size))
        default: return .other
        }
    }

    /// The permission bits of what is at an absolute location (not following a link): read_file's `mode`.
    public static func permissions(at location: String) -> Int? {
        var status = stat()
        guard lstat(location, &status) == 0 else { return nil }
        return Int(status.st_mode & 0o7777)
    }

    /// `relative` observed from the root, component by component.
    public func observe(_ relative: RelativePath) -> FilePolicy.Observation {
        FilePolicy.observe(relative) { components in Self.node(at: path + "/" + components.joined(separator: "/")) }
    }

    /// Observes `relative` and applies the policy for `operation`: answers its location and what is there, or throws
    /// the policy's refusal.
    public func resolve(
        _ relative: RelativePath, for operation: FilePolicy.Operation
    ) throws(FilePolicy.Violation) -> (location: String, observation: FilePolicy.Observation) {
        let observation = observe(relative)
        try FilePolicy.check(operation, observation, path: relative)
        return (location(of: relative), observation)
    }

    /// Creates the missing parents of `relative` (mode 0755), one component at a time; a component that turned into a
    /// link or a file meanwhile is refused as the policy says.
    public func createParents(of relative: RelativePath) throws(ProviderError) {
        var current = path
        for (index, component) in relative.components.dropLast().enumerated() {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw .internal("cannot create the directory \(current): \(String(cString: strerror(errno)))", nativeCode: errno)
            }
            let prefix = relative.components.prefix(index + 1).joined(separator: "/")
            switch Self.node(at: current) {
            case .directory?: continue
            case .link?: throw FilePolicy.Violation.link(path: relative.string, link: prefix).providerError
            default: throw FilePolicy.Violation.underFile(path: relative.string, file: prefix).providerError
            }
        }
    }
}
