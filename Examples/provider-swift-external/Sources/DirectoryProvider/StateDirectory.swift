import Foundation
import ProviderKit
import ProviderWire

#if canImport(Glibc)
import Glibc
#endif

/// The directory backend itself: everything the provider knows lives below `state_dir`, so any instance of it — in
/// this runner process or in the next one, after a restart — sees the same workspaces.
///
/// ```
/// <state_dir>/.lock                          flock: shared for reads, exclusive for changes
/// <state_dir>/workspaces/<id>/workspace.json the workspace's record (WorkspaceRecord)
/// <state_dir>/workspaces/<id>/console.log    the lifecycle log `logs` serves
/// <state_dir>/workspaces/<id>/files/         the files root; plugins in files/plugins/<name>
/// <state_dir>/snapshots/<id>/                snapshot.json and archive.tar (the files root as POSIX tar)
/// ```
struct StateDirectory: Sendable {
    /// How a verb holds the state directory's lock.
    enum Access {
        case read
        case write
    }

    /// Longest a verb without a deadline (a direct call) waits for the lock.
    static let maximumLockWaitMs = 30_000

    let root: URL
    var workspacesDir: URL { root.appendingPathComponent("workspaces", isDirectory: true) }
    var snapshotsDir: URL { root.appendingPathComponent("snapshots", isDirectory: true) }

    /// Runs `body` holding the state directory's lock. The lock is an advisory `flock` on `<state_dir>/.lock`: every
    /// process sharing the directory is serialised, and threads of one process are too (each call opens its own
    /// descriptor). Waiting honours the call's deadline. A state directory that cannot be created or locked is the
    /// backend being down: UNAVAILABLE.
    func locked<T>(_ access: Access, context: CallContext, _ body: () throws -> T) throws -> T {
        do {
            try FileManager.default.createDirectory(at: workspacesDir, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: snapshotsDir, withIntermediateDirectories: true)
        } catch {
            throw ProviderError.unavailable("state directory \(root.path) is not usable: \(error.localizedDescription)")
        }
        let path = root.appendingPathComponent(".lock").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Self.unavailable("cannot open \(path)") }
        defer { close(descriptor) }
        let giveUp = MonotonicClock.deadline(afterMilliseconds: Self.maximumLockWaitMs)
        while flock(descriptor, (access == .read ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else { throw Self.unavailable("cannot lock \(path)") }
            try context.checkDeadline("waiting for the lock on \(path)")
            if MonotonicClock.now() >= giveUp { throw ProviderError.unavailable("\(path) stayed locked for \(Self.maximumLockWaitMs) ms") }
            usleep(1_000)
        }
        return try body()
    }

    /// The directory of workspace `id`, after validating the id with ``Identifier`` (it becomes a path component).
    func workspace(_ id: String) throws(ProviderError) -> WorkspaceDirectory {
        try Identifier.validateWorkspaceId(id)
        return WorkspaceDirectory(id: id, root: workspacesDir.appendingPathComponent(id, isDirectory: true))
    }

    /// The directory of snapshot `id`, after validating the id.
    func snapshot(_ id: String) throws(ProviderError) -> SnapshotDirectory {
        try Identifier.validateSnapshotId(id)
        return SnapshotDirectory(id: id, root: snapshotsDir.appendingPathComponent(id, isDirectory: true))
    }

    /// Every workspace directory, by id.
    func allWorkspaces() -> [WorkspaceDirectory] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: workspacesDir.path)) ?? []
        return names.sorted().compactMap { try? workspace($0) }
    }

    /// Every snapshot directory, by id.
    func allSnapshots() -> [SnapshotDirectory] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: snapshotsDir.path)) ?? []
        return names.sorted().compactMap { try? snapshot($0) }
    }

    /// UNAVAILABLE for the failed system call `what`, naming `errno` (also its native code).
    static func unavailable(_ what: String) -> ProviderError {
        let code = errno
        return .unavailable("\(what): \(String(cString: strerror(code)))", nativeCode: code)
    }
}
