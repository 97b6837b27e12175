import Foundation
import ProviderWire

/// Gives each workspace its own port from the configured range: recorded in its `meta.json` (so it survives a Host
/// restart and the workspace keeps it across restarts), never one another live workspace holds or that something
/// else on the machine is listening on, and released when the workspace's storage is removed (delete).
enum PortAllocator {
    /// The allocator of `count` ports from `first`.
    static func make(first: Int, count: Int) -> MetaAllocator<Int> {
        MetaAllocator(\WorkspaceMeta.port, range: Array(first..<(first + count)), what: "port (widen port_count or remove workspaces)")
    }

    /// Whether nothing listens on TCP `port` (a bind on every address succeeds).
    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: INADDR_ANY)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
