import ProviderKit
import ProviderWire

#if canImport(Glibc)
import Glibc
#endif

extension ProcessProvider: PausingProvider {
    func pause(_ request: WorkspaceRef, context: CallContext) throws -> InspectResponse {
        try changeState(request, signal: SIGSTOP, to: .paused, context: context)
    }

    func resume(_ request: WorkspaceRef, context: CallContext) throws -> InspectResponse {
        try changeState(request, signal: SIGCONT, to: .running, context: context)
    }

    private func changeState(_ request: WorkspaceRef, signal: Int32, to target: InstanceState, context: CallContext) throws -> InspectResponse {
        let workspace = try layout.workspace(request.workspaceId)
        return try locked(request.workspaceId) {
            guard let meta = workspace.readMeta(), meta.state == .running, let group = meta.group, group.isAlive else {
                throw ProviderError.notFound("workspace \(request.workspaceId) has no running instance")
            }
            if group.state != target {
                try group.signal(signal, until: target, timeoutMs: min(30_000, max(100, context.remainingMilliseconds - 100)))
            }
            return InspectResponse(state: target, instanceRef: group.reference, address: "127.0.0.1")
        }
    }
}
