import Foundation
import ProviderKit
import ProviderWire

#if canImport(Glibc)
import Glibc
#endif

/// `diagnose`: the path from the provider to the workspace as stages — the state directory is usable, the workspace
/// is recorded, it has an instance, its files root is writable. It always answers; a failure is a failed stage.
extension DirectoryProvider: DiagnosingProvider {
    func diagnose(_ request: WorkspaceRef, context: CallContext) throws -> DiagnoseResponse {
        let workspace = try state.workspace(request.workspaceId)
        var recorder = DiagnoseRecorder()
        recorder.stage("state-dir") { try state.locked(.read, context: context) { state.root.path } }
        recorder.stage("workspace-recorded") {
            let record = try workspace.requireRecord()
            return "owner=\(record.owner) state=\(record.state.rawValue)"
        }
        recorder.stage("instance") {
            let record = try workspace.requireRecord()
            guard record.hasInstance else { throw ProviderError.notFound("workspace \(workspace.id) has no instance") }
            return record.instanceRef
        }
        recorder.stage("files-root") {
            guard access(workspace.files.path, W_OK) == 0 else { throw ProviderError.internal("\(workspace.files.path) is not writable") }
            return workspace.files.path
        }
        return recorder.response
    }
}
