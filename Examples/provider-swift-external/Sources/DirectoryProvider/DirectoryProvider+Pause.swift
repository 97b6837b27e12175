import ProviderKit
import ProviderWire

/// `pause` / `resume`: the instance's recorded state changes; pausing a paused one (or resuming a running one)
/// succeeds without change, and a workspace without an instance is NOT_FOUND.
extension DirectoryProvider: PausingProvider {
    func pause(_ request: WorkspaceRef, context: CallContext) throws -> InspectResponse {
        try change(request, to: .paused, context: context)
    }

    func resume(_ request: WorkspaceRef, context: CallContext) throws -> InspectResponse {
        try change(request, to: .running, context: context)
    }

    private func change(_ request: WorkspaceRef, to target: WorkspaceRecord.State, context: CallContext) throws -> InspectResponse {
        let workspace = try state.workspace(request.workspaceId)
        return try state.locked(.write, context: context) {
            guard var record = workspace.readRecord(), record.hasInstance else {
                throw ProviderError.notFound("workspace \(workspace.id) has no instance")
            }
            if record.state != target {
                record.state = target
                try workspace.write(record)
                try workspace.log("workspace \(workspace.id) \(target == .paused ? "paused" : "resumed"): instance \(record.instanceRef)")
            }
            return InspectResponse(state: record.instanceState, instanceRef: record.instanceRef)
        }
    }
}
