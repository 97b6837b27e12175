import Foundation
import HostStore
import ProviderWire

/// The only door to providers: routes each verb to the workspace's provider in the ``ProviderSet`` and answers its
/// typed result or a ``DispatchError``. It writes nothing: status changes are the ``WorkspaceLifecycle``'s.
public final class Dispatcher: Sendable {
    /// The loaded providers.
    public let providers: ProviderSet

    public init(providers: ProviderSet) {
        self.providers = providers
    }

    // MARK: Lifecycle verbs (called by the lifecycle)

    func provision(_ request: ProvisionRequest, on provider: String, restoring: Bool) async throws(DispatchError) -> ProvisionResponse {
        try await providers.call(restoring ? .restore : .provision, on: provider, request)
    }

    /// Stops the workspace's instance. An unknown instance is success (idempotent by contract).
    public func stop(_ workspace: Workspace) async throws(DispatchError) {
        let _: StopResponse = try await providers.call(.stop, on: workspace.provider, WorkspaceRef(workspaceId: workspace.wireId))
    }

    func pause(_ workspace: Workspace) async throws(DispatchError) {
        let _: InspectResponse = try await providers.call(.pause, on: workspace.provider, WorkspaceRef(workspaceId: workspace.wireId))
    }

    func resume(_ workspace: Workspace) async throws(DispatchError) {
        let _: InspectResponse = try await providers.call(.resume, on: workspace.provider, WorkspaceRef(workspaceId: workspace.wireId))
    }

    public func removeStorage(_ workspace: Workspace) async throws(DispatchError) -> RemoveStorageResponse {
        try await providers.call(.removeStorage, on: workspace.provider, WorkspaceRef(workspaceId: workspace.wireId))
    }

    // MARK: Pass-through verbs

    public func snapshot(_ workspace: Workspace) async throws(DispatchError) -> SnapshotResponse {
        try await providers.call(.snapshot, on: workspace.provider, WorkspaceRef(workspaceId: workspace.wireId))
    }

    public func inspect(_ workspace: Workspace) async throws(DispatchError) -> InspectResponse {
        try await providers.call(.inspect, on: workspace.provider, WorkspaceRef(workspaceId: workspace.wireId))
    }

    public func listFiles(_ workspace: Workspace, path: String, depth: Int) async throws(DispatchError) -> ListFilesResponse {
        try await providers.call(.listFiles, on: workspace.provider, ListFilesRequest(workspaceId: workspace.wireId, path: path, depth: depth))
    }

    public func readFile(_ workspace: Workspace, path: String) async throws(DispatchError) -> FileContent {
        try await providers.call(.readFile, on: workspace.provider, FilePathRequest(workspaceId: workspace.wireId, path: path))
    }

    /// Writes a file; `contentBase64` is passed on as the client sent it (already checked, never decoded again).
    public func writeFile(_ workspace: Workspace, path: String, contentBase64: String) async throws(DispatchError) -> FileWriteResponse {
        try await providers.call(
            .writeFile, on: workspace.provider, WriteFileRequest(workspaceId: workspace.wireId, path: path, contentBase64: contentBase64)
        )
    }

    public func deleteFile(_ workspace: Workspace, path: String) async throws(DispatchError) -> FileWriteResponse {
        try await providers.call(.deleteFile, on: workspace.provider, FilePathRequest(workspaceId: workspace.wireId, path: path))
    }

    /// Installs a plugin; `archiveBase64` is passed on as the client sent it (already checked).
    public func installPlugin(_ workspace: Workspace, name: String, archiveBase64: String) async throws(DispatchError) -> PluginInfo {
        try await providers.call(
            .installPlugin, on: workspace.provider, InstallPluginRequest(workspaceId: workspace.wireId, name: name, archiveBase64: archiveBase64)
        )
    }

    public func uninstallPlugin(_ workspace: Workspace, name: String) async throws(DispatchError) -> PluginInfo {
        try await providers.call(.uninstallPlugin, on: workspace.provider, PluginRef(workspaceId: workspace.wireId, name: name))
    }

    public func listPlugins(_ workspace: Workspace) async throws(DispatchError) -> ListPluginsResponse {
        try await providers.call(.listPlugins, on: workspace.provider, WorkspaceRef(workspaceId: workspace.wireId))
    }

    public func logs(_ workspace: Workspace, tailLines: Int?, cursor: String?) async throws(DispatchError) -> LogsResponse {
        try await providers.call(.logs, on: workspace.provider, LogsRequest(workspaceId: workspace.wireId, tailLines: tailLines, cursor: cursor))
    }

    public func diagnose(_ workspace: Workspace) async throws(DispatchError) -> DiagnoseResponse {
        try await providers.call(.diagnose, on: workspace.provider, WorkspaceRef(workspaceId: workspace.wireId))
    }

    // MARK: Reconciliation

    /// Everything `provider` created for its configured owner (instances, storage, snapshots).
    public func listOwned(provider: String) async throws(DispatchError) -> [OwnedResource] {
        let answer: ListOwnedResponse = try await providers.call(.listOwned, on: provider, ListOwnedRequest())
        return answer.resources
    }

    /// Removes an orphaned resource: stops an instance, or removes storage. Snapshots are never reaped.
    public func reap(provider: String, _ resource: OwnedResource) async throws(DispatchError) {
        switch resource.kind {
        case .instance:
            let _: StopResponse = try await providers.call(.stop, on: provider, WorkspaceRef(workspaceId: resource.workspaceId))
        case .storage:
            let _: RemoveStorageResponse = try await providers.call(.removeStorage, on: provider, WorkspaceRef(workspaceId: resource.workspaceId))
        case .snapshot:
            return
        }
    }
}

extension Workspace {
    /// The id as providers see it (lower-case UUID).
    var wireId: String { id.uuidString.lowercased() }
}
