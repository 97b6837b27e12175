import Foundation
import ProviderKit
import ProviderWire

/// How a workspace's processes are confined.
///
/// When the provider runs as root (the default install), each workspace gets its own unprivileged uid and gid,
/// allocated from `uid_base` and recorded in its `meta.json`; its files root is owned by that uid and mode 0700, so
/// one workspace cannot read another's files, the state directory's metadata, snapshots, the Host's database socket
/// or the Host's environment (`/proc/<pid>/environ` is its owner's only). The workload is started through util-linux
/// `setpriv` with no supplementary groups, no capabilities (inheritable and bounding set empty) and `no_new_privs`,
/// in a clean environment holding only the workspace's own variables.
///
/// When the provider does not run as root it cannot change uid: workloads run as the provider's user with
/// `no_new_privs` and the same clean environment — that is isolation from the Host's privileges, not from the Host's
/// user, and `describe` says so.
final class WorkloadSandbox: Sendable {
    enum Mode: String, Sendable, Decodable {
        /// Per-workspace uids when root; `no_new_privs` only otherwise.
        case auto
        /// No uid change, no `setpriv` (the workload runs as the provider's user).
        case off
    }

    let mode: Mode
    let uidBase: UInt32
    let uidCount: UInt32
    /// Each workspace's uid, from the range, recorded in its meta.
    private let uids: MetaAllocator<UInt32>

    init(mode: Mode, uidBase: UInt32, uidCount: UInt32) {
        self.mode = mode
        self.uidBase = uidBase
        self.uidCount = uidCount
        uids = MetaAllocator(\WorkspaceMeta.uid, range: Array(uidBase..<(uidBase + uidCount)), what: "workload uid")
    }

    /// Whether workloads get their own uid.
    var separatesUsers: Bool { mode == .auto && geteuid() == 0 }

    static let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// One line for `describe`.
    var summary: String {
        switch (mode, separatesUsers) {
        case (.off, _): "sandbox=off"
        case (_, true): "sandbox=per-workspace-uid(\(uidBase)+)"
        case (_, false): "sandbox=no_new_privs-only(not root)"
        }
    }

    /// The workspace's uid: the one recorded, or the lowest free one in the range (recorded now).
    func uid(for workspace: WorkspaceDirectory, in layout: StateLayout, owner: String) throws(ProviderError) -> UInt32 {
        try uids.value(for: workspace, in: layout, owner: owner)
    }

    /// The argv that starts `command` confined as `uid` (nil: as the provider's own user).
    func wrap(_ command: [String], uid: UInt32?) throws(ProviderError) -> [String] {
        guard mode == .auto else { return command }
        guard let setpriv = Self.setpriv else {
            if uid == nil { return command }
            throw .unavailable("the process provider runs as root and confines workloads with setpriv (util-linux), which is not installed")
        }
        var argv = [setpriv]
        if let uid {
            argv += ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"]
        }
        return argv + ["--no-new-privs", "--"] + command
    }

    /// The base environment of a workload: a fixed PATH, the language, and HOME = its files root; nothing inherited.
    static func baseEnvironment(home: String) -> [String: String] {
        var base = ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": home]
        if let lang = ProcessInfo.processInfo.environment["LANG"] { base["LANG"] = lang }
        return base
    }

    /// Makes `uid` own the files root (and everything in it), mode 0700 at the top; the directories above stay the
    /// provider's, searchable but not listable (0711).
    func prepare(_ workspace: WorkspaceDirectory, layout: StateLayout, uid: UInt32) throws(ProviderError) {
        for directory in [layout.root.path, layout.workspacesDir.path, workspace.root.path] { chmod(directory, 0o711) }
        chmod(layout.snapshotsDir.path, 0o700)
        Self.chownTree(workspace.configs.path, uid: uid)
        chmod(workspace.configs.path, 0o700)
        var ancestor = layout.root.deletingLastPathComponent()
        for _ in 0..<256 where ancestor.path != "/" {
            var info = stat()
            if stat(ancestor.path, &info) == 0, info.st_mode & 0o001 == 0 {
                throw .unavailable(
                    "workload uid \(uid) cannot reach its files: \(ancestor.path) is not searchable by others (mode "
                        + "\(String(info.st_mode & 0o777, radix: 8))); give it o+x or move the provider's state_dir")
            }
            ancestor.deleteLastPathComponent()
        }
    }

    /// Gives `path` (and below it, not following links) to `uid`.
    static func chownTree(_ path: String, uid: UInt32) {
        lchown(path, uid, uid)
        guard let enumerator = FileManager.default.enumerator(atPath: path) else { return }
        while let relative = enumerator.nextObject() as? String { lchown(path + "/" + relative, uid, uid) }
    }

    /// After the provider wrote `paths` into a workspace's files root, the workload owns them (they are its files).
    func handOver(_ paths: [String], of workspace: WorkspaceDirectory, recursive: Bool = true) {
        guard separatesUsers, let uid = workspace.readMeta()?.uid else { return }
        for path in paths {
            if recursive { Self.chownTree(path, uid: uid) } else { lchown(path, uid, uid) }
        }
    }
}
