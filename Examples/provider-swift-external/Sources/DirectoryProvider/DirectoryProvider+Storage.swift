import Foundation
import ProviderKit
import ProviderWire

/// `remove_storage`: deletes the directory `stop` kept. A workspace with an instance is CONFLICT; an unknown one
/// answers `removed: false`. Snapshots of the workspace stay (they are resources of their own in `list_owned`).
extension DirectoryProvider: StorageOwningProvider {
    func removeStorage(_ request: WorkspaceRef, context: CallContext) throws -> RemoveStorageResponse {
        let workspace = try state.workspace(request.workspaceId)
        return try state.locked(.write, context: context) {
            guard FileManager.default.fileExists(atPath: workspace.root.path) else { return RemoveStorageResponse(removed: false) }
            if workspace.readRecord()?.hasInstance == true {
                throw ProviderError.conflict("workspace \(workspace.id) has an instance; stop it before removing its storage")
            }
            try FileManager.default.removeItem(at: workspace.root)
            return RemoveStorageResponse(removed: true)
        }
    }
}
