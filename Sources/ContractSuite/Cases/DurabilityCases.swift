import Foundation
import ProviderHost
import ProviderWire

/// Files that must survive: many pause/resume cycles (part of `pause`) and a chain of snapshot/restore cycles (part
/// of `snapshot`), on a tree with nested directories, modes, an empty file, unicode names and a 10 MB file, checked
/// by checksum after every cycle. "Files lost after resume" is what users of comparable products report most.
extension ContractCatalogue {
    /// The large file of the durability tree.
    static let durableLargeBytes = 10 * 1024 * 1024

    static let durability: [ContractCase] = [
        ContractCase(
            "durability.pause-resume", "a tree of files survives every one of the pause/resume cycles (100 by default), checked each time",
            profile: .pause, exercises: [.pause, .resume], requires: [.provision, .pause, .resume, .writeFile, .readFile, .listFiles, .stop],
            tags: ["durability"]
        ) { run in
            let id = run.newWorkspaceId("durable-pause")
            try await run.provision(id)
            let tree = FileTree.make(largeBytes: durableLargeBytes)
            try await tree.write(run, id)
            try await tree.check(run, id, "before the first pause")
            for cycle in 1...run.configuration.pauseCycles {
                let paused: InspectResponse = try await run.ok(.pause, WorkspaceRef(workspaceId: id))
                try run.expect(paused.state == .paused, "cycle \(cycle): pause answered \(paused.state.rawValue)")
                let resumed: InspectResponse = try await run.ok(.resume, WorkspaceRef(workspaceId: id))
                try run.expect(resumed.state == .running, "cycle \(cycle): resume answered \(resumed.state.rawValue)")
                try await tree.check(run, id, "after pause/resume cycle \(cycle)")
            }
            _ = try await run.stop(id)
        },
        ContractCase(
            "durability.snapshot-restore",
            "a tree of files survives a chain of snapshot/restore cycles (20 by default): each restored workspace is the next one's source",
            profile: .snapshot, exercises: [.snapshot, .restore],
            requires: [.provision, .snapshot, .restore, .writeFile, .readFile, .listFiles, .stop], tags: ["durability"]
        ) { run in
            var source = run.newWorkspaceId("durable-snap")
            try await run.provision(source)
            let tree = FileTree.make(largeBytes: durableLargeBytes)
            try await tree.write(run, source)
            for cycle in 1...run.configuration.snapshotCycles {
                let snapshot: SnapshotResponse = try await run.ok(.snapshot, WorkspaceRef(workspaceId: source))
                let target = run.newWorkspaceId("durable-snap")
                run.track(target)
                let _: ProvisionResponse = try await run.ok(.restore, run.provisionRequest(target, snapshotId: snapshot.snapshotId))
                try await run.waitForState(target, [.running], "cycle \(cycle): the restored workspace")
                try await tree.check(run, target, "after snapshot/restore cycle \(cycle)")
                _ = try await run.stop(source)
                if run.claims(.removeStorage) { let _: RemoveStorageResponse = try await run.ok(.removeStorage, WorkspaceRef(workspaceId: source)) }
                source = target
            }
            _ = try await run.stop(source)
        },
    ]
}
