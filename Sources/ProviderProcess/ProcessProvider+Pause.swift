import ProviderKit
import ProviderWire

#if canImport(Glibc)
import Glibc
#endif

extension ProcessProvider: PausingProvider {
    func pause(_ request: WorkspaceRef, context: CallContext) throws -> InspectResponse {
        try changeState(request, signal: SIGSTOP, to: .paused)
    }

    func resume(_ request: WorkspaceRef, context: CallContext) throws -> InspectResponse {
        try changeState(request, signal: SIGCONT, to: .running)
    }

    private func changeState(_ request: WorkspaceRef, signal: Int32, to target: InstanceState) throws -> InspectResponse {
        let workspace = try layout.workspace(request.workspaceId)
        return try locked(request.workspaceId) {
            guard let meta = workspace.readMeta(), meta.state == .running, let group = meta.group, group.isAlive else {
                throw ProviderError.notFound("workspace \(request.workspaceId) has no running instance")
            }
            if group.state != target { try group.signal(signal, until: target) }
            return InspectResponse(state: target, instanceRef: group.reference, address: "127.0.0.1")
        }
    }
}
