import Foundation
import ProviderKit
import ProviderWire

/// The cgroup hierarchies this machine mounts, and where in each this process may create workspace cgroups.
///
/// A machine has a cgroup v2 hierarchy (`cgroup2`, all controllers in one tree), v1 hierarchies (one mount per
/// controller: `freezer`, `pids`, `memory`, `cpu`), or both — the "hybrid" layout, where v2 is mounted at
/// `/sys/fs/cgroup/unified` with few or no controllers. v2's core files (`cgroup.freeze`, `cgroup.kill`,
/// `cgroup.events`) need no controller, so a hybrid machine freezes and kills through v2 and limits through v1.
///
/// Workspace cgroups go below this process's own cgroup in each hierarchy (`/proc/self/cgroup`): a Host placed in a
/// cgroup by its supervisor (systemd, a container runtime) keeps its workspaces inside that budget.
struct CgroupHierarchies: Sendable {
    /// A mounted hierarchy: its mount point and this process's cgroup in it.
    struct Hierarchy: Sendable, Hashable {
        var mountPoint: String
        /// This process's cgroup directory in the hierarchy (mount point + `/proc/self/cgroup` path).
        var ownDirectory: String
    }

    /// The v2 hierarchy, if mounted.
    var unified: Hierarchy?
    /// The controllers v2 offers below this process's cgroup (`cgroup.controllers`).
    var unifiedControllers: Set<String> = []
    /// v1 hierarchies by controller (`freezer`, `pids`, `memory`, `cpu`).
    var v1: [String: Hierarchy] = [:]

    /// Reads `/proc/self/mountinfo` and `/proc/self/cgroup`.
    static func discover() -> CgroupHierarchies {
        let mountinfo = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        let membership = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? ""
        // "hierarchy-id:controllers:path" — v2 is "0::path"; v1 lists its controllers ("cpu,cpuacct").
        var ownPaths: [String: String] = [:]
        for line in membership.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[1].isEmpty {
                ownPaths[""] = String(parts[2])
            } else {
                for controller in parts[1].split(separator: ",") { ownPaths[String(controller)] = String(parts[2]) }
            }
        }
        var found = CgroupHierarchies()
        for line in mountinfo.split(separator: "\n") {
            // "id parent major:minor root mountpoint options - fstype source superoptions"
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let left = halves[0].split(separator: " ")
            let right = halves[1].split(separator: " ")
            guard left.count >= 5, right.count >= 3 else { continue }
            let mountPoint = String(left[4])
            let root = String(left[3])
            func own(_ key: String) -> String {
                let path = ownPaths[key] ?? "/"
                // In a cgroup namespace the mount's root is the namespace's: the path is already relative to it.
                let relative = root != "/" && path.hasPrefix(root) ? String(path.dropFirst(root.count)) : path
                let directory = mountPoint + (relative == "/" ? "" : relative)
                return FileManager.default.fileExists(atPath: directory) ? directory : mountPoint
            }
            switch right[0] {
            case "cgroup2":
                guard found.unified == nil else { continue }
                let hierarchy = Hierarchy(mountPoint: mountPoint, ownDirectory: own(""))
                found.unified = hierarchy
                let controllers = (try? String(contentsOfFile: hierarchy.ownDirectory + "/cgroup.controllers", encoding: .utf8)) ?? ""
                found.unifiedControllers = Set(controllers.split(whereSeparator: \.isWhitespace).map(String.init))
            case "cgroup":
                for option in right[2].split(separator: ",") where ["freezer", "pids", "memory", "cpu"].contains(String(option)) {
                    let controller = String(option)
                    if found.v1[controller] == nil { found.v1[controller] = Hierarchy(mountPoint: mountPoint, ownDirectory: own(controller)) }
                }
            default: continue
            }
        }
        return found
    }
}
