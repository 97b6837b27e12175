import Foundation
import ProviderKit
import ProviderWire

/// The provider's state directory: `workspaces/<id>/` and `snapshots/<id>/`.
struct StateLayout: Sendable {
    let root: URL
    var workspacesDir: URL { root.appendingPathComponent("workspaces", isDirectory: true) }
    var snapshotsDir: URL { root.appendingPathComponent("snapshots", isDirectory: true) }

    /// Creates the directories if needed; an unusable state dir is the Process backend being UNAVAILABLE.
    func ensureUsable() throws(ProviderError) {
        do {
            try FileManager.default.createDirectory(at: workspacesDir, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: snapshotsDir, withIntermediateDirectories: true)
        } catch {
            throw .unavailable("process state directory \(root.path) is not usable: \(error.localizedDescription)")
        }
        guard access(workspacesDir.path, W_OK) == 0 else {
            throw .unavailable("process state directory \(root.path) is not writable", nativeCode: errno)
        }
    }

    /// The directory of workspace `id`, after validating the id (it becomes a path component) and that the state
    /// directory is usable (UNAVAILABLE when not: the backend is down, whatever the verb).
    func workspace(_ id: String) throws(ProviderError) -> WorkspaceDirectory {
        let directory = try unchecked(workspace: id)
        try ensureUsable()
        return directory
    }

    /// The directory of workspace `id` without asking whether the state directory is usable (diagnose, which reports
    /// that as a stage of its own).
    func unchecked(workspace id: String) throws(ProviderError) -> WorkspaceDirectory {
        try Identifier.validateWorkspaceId(id)
        return WorkspaceDirectory(root: workspacesDir.appendingPathComponent(id, isDirectory: true), id: id)
    }

    func snapshot(_ id: String) throws(ProviderError) -> URL {
        try Identifier.validateSnapshotId(id)
        try ensureUsable()
        return snapshotsDir.appendingPathComponent(id, isDirectory: true)
    }

    func allWorkspaces() -> [WorkspaceDirectory] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: workspacesDir.path)) ?? []
        return names.sorted().compactMap { try? workspace($0) }
    }

    func allSnapshots() -> [SnapshotMeta] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: snapshotsDir.path)) ?? []
        return names.sorted().compactMap { name in
            guard let data = try? Data(contentsOf: snapshotsDir.appendingPathComponent(name).appendingPathComponent("meta.json"))
            else { return nil }
            return try? JSONDecoder().decode(SnapshotMeta.self, from: data)
        }
    }
}

/// What the provider records about a workspace (`meta.json`): the owner label, the running workload and what it was
/// given (cgroup, uid, port, tier).
struct WorkspaceMeta: Codable, Sendable {
    enum State: String, Codable, Sendable {
        case running
        case stopped
    }
    var workspaceId: String
    var owner: String
    var createdAtMs: Int64
    var state: State = .stopped
    var workload: Workload?
    /// The workspace's cgroup, recorded before the workload starts (see ``WorkspaceCgroup``).
    var cgroup: WorkspaceCgroup?
    var command: [String] = []
    /// The workload's own uid (and gid), when the provider runs as root (see ``WorkloadSandbox``).
    var uid: UInt32?
    /// The workspace's port (see ``PortAllocator``).
    var port: Int?
    /// The tier it was last started with (its limits).
    var tier: Int?

    init(workspaceId: String, owner: String) {
        self.workspaceId = workspaceId
        self.owner = owner
        self.createdAtMs = Int64(Date().timeIntervalSince1970 * 1000)
    }
}

/// What the provider records about a snapshot.
struct SnapshotMeta: Codable, Sendable {
    var snapshotId: String
    var workspaceId: String
    var owner: String
    var createdAtMs: Int64
}

/// One workspace's directory.
struct WorkspaceDirectory: Sendable {
    let root: URL
    let id: String
    var configs: URL { root.appendingPathComponent("configs", isDirectory: true) }
    var consoleLog: URL { root.appendingPathComponent("console.log") }
    var metaFile: URL { root.appendingPathComponent("meta.json") }
    var exists: Bool { FileManager.default.fileExists(atPath: metaFile.path) }

    func create() throws {
        try FileManager.default.createDirectory(at: configs.appendingPathComponent("plugins"), withIntermediateDirectories: true)
    }

    func readMeta() -> WorkspaceMeta? {
        guard let data = try? Data(contentsOf: metaFile) else { return nil }
        return try? JSONDecoder().decode(WorkspaceMeta.self, from: data)
    }

    func writeMeta(_ meta: WorkspaceMeta) throws {
        try JSONEncoder().encode(meta).write(to: metaFile, options: .atomic)
    }

    /// The workspace's directory, or NOT_FOUND when the provider never created it (or its storage was removed).
    func requireExisting() throws(ProviderError) -> WorkspaceDirectory {
        guard exists else { throw .notFound("workspace \(id) not found (no instance or storage)") }
        return self
    }

    /// Writes the workspace's token where ``AgentEnvironment`` tells the agent to read it (0600).
    func writeToken(_ token: String) throws {
        let url = configs.appendingPathComponent(AgentEnvironment.tokenFileName)
        try Data(token.utf8).write(to: url, options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
    }

    /// The files root, with ``FilePolicy`` applied to every path.
    var filesRoot: LocalFilesRoot { LocalFilesRoot(path: configs.path) }

    /// Writes an archive's files and directories into the files root (a snapshot restored, a template seeded), under
    /// the same policy as `write_file`: never through a link the workload left. Links in the archive are refused.
    func write(_ entries: [TarArchive.Entry]) throws {
        let root = filesRoot
        for entry in entries {
            switch entry.kind {
            case .directory:
                try root.createParents(of: entry.path)
                let target = try root.resolve(entry.path, for: .makeDirectory).location
                try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            case .file:
                try root.createParents(of: entry.path)
                let target = try root.resolve(entry.path, for: .write).location
                try Data(entry.contents).write(to: URL(fileURLWithPath: target))
                try FileManager.default.setAttributes([.posixPermissions: entry.mode & 0o777], ofItemAtPath: target)
            case .symlink, .hardlink, .other:
                throw ProviderError.invalidArgument("archive entry \(entry.path) is not a file or directory; links are refused")
            }
        }
    }
}
