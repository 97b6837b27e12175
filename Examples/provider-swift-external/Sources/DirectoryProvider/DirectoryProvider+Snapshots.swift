import Foundation
import ProviderKit
import ProviderWire

/// `snapshot` / `restore`: a snapshot is the workspace's files root as a tar archive in `snapshots/<id>/`; restoring
/// unpacks it into a (new or stopped) workspace — under the files verbs' policy, never through a link — and starts it.
extension DirectoryProvider: SnapshottingProvider {
    func snapshot(_ request: WorkspaceRef, context: CallContext) throws -> SnapshotResponse {
        let workspace = try state.workspace(request.workspaceId)
        return try state.locked(.write, context: context) {
            _ = try workspace.requireRecord()
            let archive = try workspace.filesRoot.archive(context: context)
            let snapshot = try state.snapshot("snap-\(UUID().uuidString.lowercased())")
            try FileManager.default.createDirectory(at: snapshot.root, withIntermediateDirectories: true)
            try Data(archive.serialized()).write(to: snapshot.archive)
            // The record is written last: a snapshot without one (a crash half-way) is never listed or restored.
            let record = SnapshotRecord(
                snapshotId: snapshot.id, workspaceId: workspace.id, owner: configuration.owner, createdAtMs: WorkspaceRecord.nowMs()
            )
            try JSONEncoder().encode(record).write(to: snapshot.recordFile, options: .atomic)
            return SnapshotResponse(snapshotId: snapshot.id)
        }
    }

    func restore(_ request: ProvisionRequest, context: CallContext) throws -> ProvisionResponse {
        guard let snapshotId = request.snapshotId else { throw ProviderError.invalidArgument("restore needs a \"snapshot_id\"") }
        let snapshot = try state.snapshot(snapshotId)
        let workspace = try state.workspace(request.workspaceId)
        return try state.locked(.write, context: context) {
            guard snapshot.readRecord() != nil, let bytes = try? Data(contentsOf: snapshot.archive) else {
                throw ProviderError.notFound("snapshot \(snapshotId) not found")
            }
            if workspace.readRecord()?.hasInstance == true {
                throw ProviderError.conflict("workspace \(workspace.id) has an instance; stop it before restoring into it")
            }
            try workspace.create()
            _ = try workspace.filesRoot.unpack(try TarArchive(parsing: [UInt8](bytes)), context: context)
            try workspace.log("workspace \(workspace.id) restored from snapshot \(snapshotId)")
            return try start(workspace, token: request.token)
        }
    }
}
