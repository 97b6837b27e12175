import Foundation
import ProviderKit
import ProviderWire

extension ProcessProvider: SnapshottingProvider {
    func snapshot(_ request: WorkspaceRef, context: CallContext) throws -> SnapshotResponse {
        let workspace = try layout.workspace(request.workspaceId).requireExisting()
        var archive = TarArchive()
        let root = workspace.configs
        let enumerator = FileManager.default.enumerator(atPath: root.path)
        while let relative = enumerator?.nextObject() as? String {
            try context.checkDeadline("archiving the workspace")
            let url = root.appendingPathComponent(relative)
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            let mode = (attributes[.posixPermissions] as? Int) ?? 0o644
            let path = try RelativePath(relative)
            if AgentEnvironment.isCredential(path) { continue }  // the token never leaves the workspace
            switch attributes[.type] as? FileAttributeType {
            case .typeDirectory?: archive.entries.append(.init(path: path, kind: .directory, mode: mode))
            case .typeRegular?: archive.entries.append(.init(path: path, kind: .file, mode: mode, contents: [UInt8](try Data(contentsOf: url))))
            default: continue
            }
        }
        let snapshotId = "snap-\(request.workspaceId)-\(Int64(Date().timeIntervalSince1970 * 1000))-\(UInt32.random(in: 0...UInt32.max))"
        let directory = try layout.snapshot(snapshotId)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let archiveURL = directory.appendingPathComponent("archive.tar")
        try Data(archive.serialized()).write(to: archiveURL)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: archiveURL.path)
        let meta = SnapshotMeta(
            snapshotId: snapshotId, workspaceId: request.workspaceId, owner: config.owner,
            createdAtMs: Int64(Date().timeIntervalSince1970 * 1000)
        )
        try JSONEncoder().encode(meta).write(to: directory.appendingPathComponent("meta.json"), options: .atomic)
        return SnapshotResponse(snapshotId: snapshotId)
    }

    func restore(_ request: ProvisionRequest, context: CallContext) throws -> ProvisionResponse {
        guard let snapshotId = request.snapshotId else { throw ProviderError.invalidArgument("restore needs a \"snapshot_id\"") }
        try layout.ensureUsable()
        let archiveURL = try layout.snapshot(snapshotId).appendingPathComponent("archive.tar")
        guard let bytes = try? Data(contentsOf: archiveURL) else { throw ProviderError.notFound("snapshot \(snapshotId) not found") }
        let archive = try TarArchive(parsing: [UInt8](bytes), limits: .engine)
        let workspace = try layout.workspace(request.workspaceId)
        return try locked(request.workspaceId) {
            if try runningWorkload(workspace) != nil {
                throw ProviderError.conflict("workspace \(request.workspaceId) is running; stop it before restoring into it")
            }
            try workspace.create()
            // The snapshot's files go in under the same policy as write_file: never through a link the workload left.
            try workspace.write(archive.entries.filter { $0.kind == .file || $0.kind == .directory })
            return try start(workspace, request: request, context: context)
        }
    }
}
