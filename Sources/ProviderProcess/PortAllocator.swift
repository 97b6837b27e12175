import Foundation
import ProviderWire
import Synchronization

/// Gives each workspace its own port from the configured range: recorded in its `meta.json` (so it survives a Host
/// restart and the workspace keeps it across restarts), never one another live workspace holds or that something
/// else on the machine is listening on, and released when the workspace's storage is removed (delete).
final class PortAllocator: Sendable {
    let first: Int
    let count: Int
    private let allocation = Mutex(())

    init(first: Int, count: Int) {
        self.first = first
        self.count = count
    }

    /// The workspace's port: the one recorded, or the lowest free one (recorded here).
    func port(for workspace: WorkspaceDirectory, in layout: StateLayout, owner: String) throws(ProviderError) -> Int {
        if let recorded = workspace.readMeta()?.port { return recorded }
        return try allocation.withLock { _ throws(ProviderError) -> Int in
            let taken = Set(layout.allWorkspaces().compactMap { $0.id == workspace.id ? nil : $0.readMeta()?.port })
            guard let free = (first..<(first + count)).first(where: { !taken.contains($0) && Self.isFree($0) }) else {
                throw .quotaExceeded("every port from \(first) to \(first + count - 1) is taken; widen port_count or remove workspaces")
            }
            var meta = workspace.readMeta() ?? WorkspaceMeta(workspaceId: workspace.id, owner: owner)
            meta.port = free
            do { try workspace.writeMeta(meta) } catch { throw .unavailable("cannot record the workspace's port: \(error)") }
            return free
        }
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
