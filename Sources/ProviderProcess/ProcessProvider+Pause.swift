import ProviderKit
import ProviderWire

#if canImport(Glibc)
import Glibc
#endif

extension ProcessProvider: PausingProvider {
    func pause(_ request: WorkspaceRef, context: CallContext) throws -> InspectResponse {
        try changeState(request, paused: true, context: context)
    }

    func resume(_ request: WorkspaceRef, context: CallContext) throws -> InspectResponse {
        try changeState(request, paused: false, context: context)
    }

    /// Freezes (thaws) the workspace's cgroup, or stops (continues) its supervisor's whole tree, and answers once the
    /// kernel reports every process there.
    private func changeState(_ request: WorkspaceRef, paused: Bool, context: CallContext) throws -> InspectResponse {
        let workspace = try layout.workspace(request.workspaceId)
        return try locked(request.workspaceId) {
            guard let workload = try runningWorkload(workspace) else {
                throw ProviderError.notFound("workspace \(request.workspaceId) has no running instance")
            }
            let target: InstanceState = paused ? .paused : .running
            if workload.state != target {
                try workload.setPaused(paused, timeoutMs: min(30_000, max(100, context.remainingMilliseconds - 100)))
            }
            return InspectResponse(state: target, instanceRef: workload.reference, address: config.advertiseHost)
        }
    }
}
