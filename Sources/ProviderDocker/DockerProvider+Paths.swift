import Foundation
import ProviderHTTP
import ProviderKit
import ProviderWire

/// Paths in the configs volume observed for ``FilePolicy``: the engine's path stat (`HEAD …/archive`, which never
/// follows the last component's link), one component at a time from `/configs`, so no link on the way is followed.
extension DockerProvider {
    /// Go's `os.FileMode` type bits, as the engine's path stat reports them.
    enum FileModeBits {
        static let directory: UInt32 = 1 << 31
        static let symlink: UInt32 = 1 << 27
        /// Every type bit (directory, symlink, device, named pipe, socket, char device, irregular).
        static let type: UInt32 = (1 << 31) | (1 << 27) | (1 << 26) | (1 << 25) | (1 << 24) | (1 << 21) | (1 << 19)
    }

    /// The container path of `path` in the configs volume.
    static func volumePath(_ path: RelativePath) -> String { "/configs" + (path.isRoot ? "" : "/" + path.string) }

    /// What is at `absolute` in the container, without following a link there; `nil` when nothing is.
    func node(_ container: String, _ absolute: String, context: CallContext) throws(ProviderError) -> FilePolicy.Node? {
        let reply = try engine.request("HEAD", "/containers/\(container)/archive?path=\(absolute.queryEscaped)", context: context)
        if reply.status == 404 { return nil }
        try engine.check(reply, "stat \(absolute)")
        guard let header = reply.headers["x-docker-container-path-stat"], let bytes = Data(base64Encoded: header),
            let stat = try? WireCoding.decode(JSONValue.self, from: [UInt8](bytes)), let mode = stat["mode"]?.numberValue
        else { throw .internal("stat \(absolute): the Docker engine answered no X-Docker-Container-Path-Stat header") }
        let bits = UInt32(truncatingIfNeeded: Int64(mode))
        if bits & FileModeBits.symlink != 0 { return .link }
        if bits & FileModeBits.directory != 0 { return .directory }
        if bits & FileModeBits.type != 0 { return .other }
        return .file(size: Int64(stat["size"]?.numberValue ?? 0))
    }

    /// Observes `path` in the configs volume and applies the policy for `operation`; answers what is there.
    @discardableResult
    func resolve(
        _ path: RelativePath, in container: String, for operation: FilePolicy.Operation, context: CallContext
    ) throws -> FilePolicy.Observation {
        let observation = try FilePolicy.observe(path) { (components: [String]) throws(ProviderError) in
            try node(container, Self.volumePath(try RelativePath(components.joined(separator: "/"))), context: context)
        }
        try FilePolicy.check(operation, observation, path: path)
        return observation
    }
}
