import Foundation
import ProviderHost
import ProviderWire

/// The `snapshot` profile.
extension ContractCatalogue {
    static let snapshots: [ContractCase] = [
        ContractCase(
            "snapshot.restore", "a snapshot restored into a new workspace carries the file content",
            profile: .snapshot, exercises: [.snapshot, .restore], requires: [.provision, .snapshot, .restore, .writeFile, .readFile]
        ) { run in
            let source = run.newWorkspaceId("snap-src")
            let target = run.newWorkspaceId("snap-dst")
            try await run.provision(source)
            let content = Data("snapshot payload \(run.runId)\n".utf8) + Data([0, 255, 1, 254])
            let _: FileWriteResponse = try await run.ok(
                .writeFile, WriteFileRequest(workspaceId: source, path: "state/snap.bin", contentBase64: content.base64EncodedString())
            )
            let snapshot: SnapshotResponse = try await run.ok(.snapshot, WorkspaceRef(workspaceId: source))
            try run.expect(!snapshot.snapshotId.isEmpty, "snapshot answered an empty snapshot_id")
            run.track(target)
            let _: ProvisionResponse = try await run.ok(.restore, run.provisionRequest(target, snapshotId: snapshot.snapshotId))
            try await run.waitForState(target, [.running], "restored workspace")
            let read: FileContent = try await run.ok(.readFile, FilePathRequest(workspaceId: target, path: "state/snap.bin"))
            try run.expect(Data(base64Encoded: read.contentBase64) == content, "restored file differs from the snapshot's")
            try await run.expectError(
                .notFound, .restore, run.provisionRequest(run.newWorkspaceId("x"), snapshotId: "no-such-snapshot"), "restore of an unknown snapshot")
            _ = try await run.stop(source)
            _ = try await run.stop(target)
        },
        ContractCase(
            "snapshot.unknown", "snapshot of an unknown workspace and restore of an unknown snapshot are NOT_FOUND",
            profile: .snapshot, exercises: [.snapshot, .restore]
        ) { run in
            try await run.expectError(
                .notFound, .snapshot, WorkspaceRef(workspaceId: run.newWorkspaceId("never")), "snapshot of an unknown workspace")
            try await run.expectError(
                .notFound, .restore, run.provisionRequest(run.newWorkspaceId("never"), snapshotId: "no-such-snapshot-\(run.runId)"),
                "restore of an unknown snapshot")
        },
        ContractCase(
            "snapshot.restore-onto-live", "restore onto a running workspace is CONFLICT and leaves it running with its own files",
            profile: .snapshot, exercises: [.restore], requires: [.provision, .snapshot, .restore, .writeFile, .readFile, .stop]
        ) { run in
            let source = run.newWorkspaceId("live-src")
            let live = run.newWorkspaceId("live-dst")
            try await run.provision(source)
            try await FileTree.write(run, source, "contract/which.txt", Array("source\n".utf8))
            let snapshot: SnapshotResponse = try await run.ok(.snapshot, WorkspaceRef(workspaceId: source))
            try await run.provision(live)
            try await FileTree.write(run, live, "contract/which.txt", Array("live\n".utf8))
            try await run.expectError(
                .conflict, .restore, run.provisionRequest(live, snapshotId: snapshot.snapshotId), "restore onto a running workspace")
            try await run.waitForState(live, [.running], "after a refused restore")
            let kept: FileContent = try await run.ok(.readFile, FilePathRequest(workspaceId: live, path: "contract/which.txt"))
            try run.expect(Data(base64Encoded: kept.contentBase64) == Data("live\n".utf8), "a refused restore changed the running workspace's files")
            _ = try await run.stop(source)
            _ = try await run.stop(live)
        },
    ]
}
