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
        guard let header = reply.headers["x-docker-container-path-stat"] else {
            throw .internal("stat \(absolute): the Docker engine answered no X-Docker-Container-Path-Stat header")
        }
        guard let bytes = Self.pathStatBytes(header), let stat = try? WireCoding.decode(JSONValue.self, from: [UInt8](bytes)),
            let mode = stat["mode"]?.numberValue
        else { throw .internal("stat \(absolute): the X-Docker-Container-Path-Stat header is not base64 JSON with a mode: \(header.prefix(200))") }
        let bits = UInt32(truncatingIfNeeded: Int64(mode))
        if bits & FileModeBits.symlink != 0 { return .link }
        if bits & FileModeBits.directory != 0 { return .directory }
        if bits & FileModeBits.type != 0 { return .other }
        return .file(size: Int64(stat["size"]?.numberValue ?? 0))
    }

    /// The bytes of the path-stat header. The Engine API says only "base64-encoded": dockerd uses the standard alphabet,
    /// Podman's compat layer the URL-safe one (`-` and `_` for `+` and `/`, which names outside ASCII produce), so
    /// both are read, padded or not.
    static func pathStatBytes(_ header: String) -> Data? {
        var standard = header.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "-", with: "+")
            .replacingOccurrences(of: "_", with: "/")
        while standard.count % 4 != 0 { standard += "=" }
        return Data(base64Encoded: standard)
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
