import Foundation
import ProviderHost
import ProviderWire

/// Storage removal and what list_owned shows of storage (part of `core`).
extension ContractCatalogue {
    static let storage: [ContractCase] = [
        ContractCase(
            "storage.remove", "remove_storage deletes a stopped workspace's storage; again is a no-op", profile: .core, exercises: [.removeStorage],
            requires: [.provision, .stop, .removeStorage]
        ) {
            run in
            let id = run.newWorkspaceId("storage")
            try await run.provision(id)
            _ = try await run.stop(id)
            let removed: RemoveStorageResponse = try await run.ok(.removeStorage, WorkspaceRef(workspaceId: id))
            try run.expect(removed.removed, "remove_storage of a stopped workspace answered removed=false")
            let again: RemoveStorageResponse = try await run.ok(.removeStorage, WorkspaceRef(workspaceId: id))
            try run.expect(!again.removed, "second remove_storage answered removed=true")
            if run.claims(.listOwned) {
                let owned: ListOwnedResponse = try await run.ok(.listOwned, ListOwnedRequest(owner: run.owner))
                try run.expect(!owned.resources.contains { $0.workspaceId == id }, "list_owned still lists removed storage of \(id)")
            }
        },
        ContractCase(
            "storage.remove-running", "remove_storage of a running workspace is CONFLICT and changes nothing: it keeps running with its files",
            profile: .core, exercises: [.removeStorage], requires: [.provision, .inspect, .stop, .removeStorage, .writeFile, .readFile]
        ) { run in
            let id = run.newWorkspaceId("busy")
            try await run.provision(id)
            try await FileTree.write(run, id, "contract/keep.txt", Array("keep\n".utf8))
            try await run.expectError(.conflict, .removeStorage, WorkspaceRef(workspaceId: id), "remove_storage of a running workspace")
            try await run.waitForState(id, [.running], "after a refused remove_storage")
            let kept: FileContent = try await run.ok(.readFile, FilePathRequest(workspaceId: id, path: "contract/keep.txt"))
            try run.expect(Data(base64Encoded: kept.contentBase64) == Data("keep\n".utf8), "a refused remove_storage changed the workspace's files")
            _ = try await run.stop(id)
        },
        ContractCase(
            "list-owned.kinds",
            "list_owned shows a running workspace's instance; once stopped, its storage (so a reaper can find it) and no instance; once removed, nothing",
            profile: .core, exercises: [.listOwned, .removeStorage], requires: [.provision, .stop, .listOwned, .removeStorage]
        ) { run in
            let id = run.newWorkspaceId("kinds")
            func kinds() async throws -> Set<OwnedResource.Kind> {
                let owned: ListOwnedResponse = try await run.ok(.listOwned, ListOwnedRequest(owner: run.owner))
                return Set(owned.resources.filter { $0.workspaceId == id }.map(\.kind))
            }
            try await run.provision(id)
            let running = try await kinds()
            try run.expect(running.contains(.instance), "list_owned of a running workspace shows \(running.map(\.rawValue).sorted()), no instance")
            _ = try await run.stop(id)
            let stopped = try await kinds()
            try run.expect(
                stopped == [.storage], "list_owned of a stopped workspace shows \(stopped.map(\.rawValue).sorted()), expected exactly [storage]")
            let _: RemoveStorageResponse = try await run.ok(.removeStorage, WorkspaceRef(workspaceId: id))
            let removed = try await kinds()
            try run.expect(removed.isEmpty, "list_owned after remove_storage still shows \(removed.map(\.rawValue).sorted())")
        },
    ]
}
