import Foundation
import ProviderKit
import ProviderWire

/// How one provider instance contains its workspaces: by cgroup where it can write one, else by session and
/// subreaper.
///
/// - **cgroup**: each workspace is one cgroup named after its id, created before the workload execs and removed
///   after stop. Pause freezes it (the kernel stops every member, whatever it is doing — a shell blocked in `vfork`
///   included), stop signals every member and then kills the cgroup, limits are the cgroup's, and membership is the
///   truth about which processes are the workspace's.
/// - **session** (no writable cgroup: not root, a read-only cgroupfs, or `containment: session`): each workspace's
///   supervisor is a child subreaper, so every descendant — double-forked, `setsid` — stays in its process tree,
///   which pause, stop and inspect walk in `/proc`. No limits can be enforced, and `describe`/`diagnose` say so.
enum Containment: Sendable {
    case cgroup(CgroupLayout)
    case session(reason: String)

    /// The `containment` setting.
    enum Mode: String, Sendable, Decodable {
        case auto, cgroup, session
    }

    /// The containment `mode` asks for, for the provider whose state lives in `stateDirectory`.
    static func choose(_ mode: Mode, stateDirectory: String) throws(ProviderError) -> Containment {
        switch mode {
        case .session: return .session(reason: "containment: session is configured")
        case .cgroup:
            switch CgroupLayout.prepare(stateDirectory: stateDirectory) {
            case .success(let layout): return .cgroup(layout)
            case .failure(let reason): throw .unavailable("containment: cgroup is configured, but \(reason)")
            }
        case .auto:
            switch CgroupLayout.prepare(stateDirectory: stateDirectory) {
            case .success(let layout): return .cgroup(layout)
            case .failure(let reason): return .session(reason: reason.description)
            }
        }
    }

    var layout: CgroupLayout? {
        if case .cgroup(let layout) = self { return layout }
        return nil
    }

    /// One line for `describe` and `diagnose`.
    var summary: String {
        switch self {
        case .cgroup(let layout): "containment=cgroup(\(layout.summary))"
        case .session(let reason): "containment=session(subreaper; no limits: \(reason))"
        }
    }
}

/// Where one provider instance's workspace cgroups live: one parent directory per hierarchy
/// (`<own cgroup>/molecule-<hash of the state dir>`), each workspace a child named after its id.
struct CgroupLayout: Sendable {
    /// Why cgroups cannot be used, for `describe`.
    struct Unusable: Error, CustomStringConvertible {
        var description: String
    }

    var primary: WorkspaceCgroup.Directory
    var memory: WorkspaceCgroup.Directory?
    var pids: WorkspaceCgroup.Directory?
    var cpu: WorkspaceCgroup.Directory?

    /// The cgroup of workspace `id` (not created yet).
    func cgroup(for id: String) -> WorkspaceCgroup {
        func child(_ parent: WorkspaceCgroup.Directory?) -> WorkspaceCgroup.Directory? {
            parent.map { .init(path: $0.path + "/" + id, version: $0.version) }
        }
        return WorkspaceCgroup(primary: child(primary)!, memory: child(memory), pids: child(pids), cpu: child(cpu))
    }

    /// The workspace cgroups that exist under the primary parent, by workspace id.
    func existingWorkspaces() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: primary.path)) ?? []
        return entries.filter { entry in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: primary.path + "/" + entry, isDirectory: &isDirectory) && isDirectory.boolValue
                && (try? Identifier.validateWorkspaceId(entry)) != nil
        }
    }

    var summary: String {
        func name(_ directory: WorkspaceCgroup.Directory?) -> String { directory.map { "v\($0.version)" } ?? "none" }
        return "freezer v\(primary.version) at \(primary.path); memory \(name(memory)), pids \(name(pids)), cpu \(name(cpu))"
    }

    /// Finds (and creates) the parent directories, or says why this machine gives no writable cgroup.
    static func prepare(stateDirectory: String) -> Result<CgroupLayout, Unusable> {
        let hierarchies = CgroupHierarchies.discover()
        let name = "molecule-" + String(StableHash.fnv1a(stateDirectory), radix: 16)
        // Each parent is made (proving it writable) and removed again if empty: it exists while it has workspaces.
        var made: [String] = []
        defer { for path in made { rmdir(path) } }
        func make(_ parent: String) -> String? {
            let path = parent + "/" + name
            guard mkdir(path, 0o755) == 0 || errno == EEXIST else { return nil }
            made.append(path)
            return path
        }
        var primary: WorkspaceCgroup.Directory?
        var unifiedParent: String?
        if let unified = hierarchies.unified, let path = make(unified.ownDirectory),
            FileManager.default.fileExists(atPath: path + "/cgroup.freeze")
        {
            primary = .init(path: path, version: 2)
            unifiedParent = path
        } else if let freezer = hierarchies.v1["freezer"], let path = make(freezer.ownDirectory),
            FileManager.default.fileExists(atPath: path + "/freezer.state")
        {
            primary = .init(path: path, version: 1)
        }
        guard let primary else {
            let reason =
                geteuid() != 0
                ? "the provider is not root and no cgroup is delegated to it"
                : hierarchies.unified == nil && hierarchies.v1["freezer"] == nil
                    ? "no cgroup v2 hierarchy and no v1 freezer is mounted" : "no cgroup v2 or v1 freezer directory is writable here"
            return .failure(Unusable(description: reason))
        }
        // A controller from v2 when it can be delegated to our parent; else from its v1 hierarchy.
        func controller(_ controller: String, file: String) -> WorkspaceCgroup.Directory? {
            if let unifiedParent, let unified = hierarchies.unified, hierarchies.unifiedControllers.contains(controller) {
                // Enable it from our own cgroup down to our parent (refused while our own cgroup holds processes and is
                // not the root: then v1, if mounted, is the way).
                for directory in [unified.ownDirectory, unifiedParent] {
                    _ = try? "+\(controller)".write(toFile: directory + "/cgroup.subtree_control", atomically: false, encoding: .utf8)
                }
                let probe = unifiedParent + "/.probe-\(getpid())"
                if mkdir(probe, 0o755) == 0 {
                    defer { rmdir(probe) }
                    if FileManager.default.fileExists(atPath: probe + "/" + file) { return .init(path: unifiedParent, version: 2) }
                }
            }
            if let hierarchy = hierarchies.v1[controller], let path = make(hierarchy.ownDirectory) { return .init(path: path, version: 1) }
            return nil
        }
        return .success(
            CgroupLayout(
                primary: primary, memory: controller("memory", file: "memory.max"), pids: controller("pids", file: "pids.max"),
                cpu: controller("cpu", file: "cpu.max")
            ))
    }
}
