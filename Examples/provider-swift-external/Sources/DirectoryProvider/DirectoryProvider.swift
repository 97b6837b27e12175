import Foundation
import ProviderKit
import ProviderWire

/// A workspace backend where each workspace is a directory below the configured `state_dir`, holding its record, its
/// files, its plugins and its console log (``StateDirectory`` shows the layout). Nothing runs: an instance is the
/// record saying so, which makes this the smallest backend that honours the whole contract — and a template for a
/// real one, whose verbs would call an API where these touch files.
///
/// Every verb takes the state directory's lock (``StateDirectory/locked(_:context:_:)``), so instances of the provider
/// in different runner processes — a restarted Host, a reload — share the workspaces safely. The optional verbs are
/// in one extension per capability protocol; adopting a protocol is what makes ProviderKit claim its verbs.
final class DirectoryProvider: WorkspaceProvider {
    static let name = "directory"
    static let version = "0.1.0"
    static let summary = "Workspaces as directories below a state directory (an external ProviderKit example)"

    let configuration: DirectoryConfiguration
    let state: StateDirectory

    init(configuration: ProviderConfiguration) throws {
        self.configuration = try configuration.decode(DirectoryConfiguration.self, provider: Self.name)
        state = StateDirectory(root: URL(fileURLWithPath: self.configuration.stateDir, isDirectory: true))
    }

    func describe(context: CallContext) throws -> DescribeResponse {
        try state.locked(.read, context: context) {
            DescribeResponse(name: Self.name, version: Self.version, backend: "state_dir=\(state.root.path)")
        }
    }

    func provision(_ request: ProvisionRequest, context: CallContext) throws -> ProvisionResponse {
        let workspace = try state.workspace(request.workspaceId)
        return try state.locked(.write, context: context) { try start(workspace, token: request.token) }
    }

    /// Starts the workspace's instance, or answers the one it has (idempotent). The caller holds the write lock.
    func start(_ workspace: WorkspaceDirectory, token: String?) throws -> ProvisionResponse {
        try workspace.create()
        if let token { try workspace.writeToken(token) }
        var record = workspace.readRecord() ?? WorkspaceRecord(workspaceId: workspace.id, owner: configuration.owner)
        if !record.hasInstance {
            record.generation += 1
            record.state = .running
            try workspace.write(record)
            try workspace.log("workspace \(workspace.id) started: instance \(record.instanceRef)")
            try workspace.log("workspace \(workspace.id) ready (a directory backend runs nothing)")
            HostServices.current?.emitEvent(type: "instance.started", workspaceId: workspace.id, detail: ["ref": record.instanceRef])
        }
        return ProvisionResponse(instanceRef: record.instanceRef, state: record.instanceState)
    }

    func stop(_ request: WorkspaceRef, context: CallContext) throws -> StopResponse {
        let workspace = try state.workspace(request.workspaceId)
        return try state.locked(.write, context: context) {
            guard var record = workspace.readRecord(), record.hasInstance else { return StopResponse(stopped: false) }
            record.state = .stopped
            try workspace.write(record)
            try workspace.log("workspace \(workspace.id) stopped: instance \(record.instanceRef)")
            return StopResponse(stopped: true)
        }
    }

    func inspect(_ request: WorkspaceRef, context: CallContext) throws -> InspectResponse {
        let workspace = try state.workspace(request.workspaceId)
        return try state.locked(.read, context: context) {
            guard let record = workspace.readRecord() else { return InspectResponse(state: .absent) }
            return InspectResponse(state: record.instanceState, instanceRef: record.hasInstance ? record.instanceRef : nil)
        }
    }

    func listOwned(_ request: ListOwnedRequest, context: CallContext) throws -> ListOwnedResponse {
        let owner = request.owner ?? configuration.owner
        return try state.locked(.read, context: context) {
            var resources: [OwnedResource] = []
            for workspace in state.allWorkspaces() {
                guard let record = workspace.readRecord(), record.owner == owner else { continue }
                if record.hasInstance {
                    resources.append(
                        OwnedResource(
                            workspaceId: record.workspaceId, kind: .instance, ref: record.instanceRef, owner: owner,
                            state: record.instanceState, createdAtMs: record.createdAtMs
                        )
                    )
                }
                resources.append(
                    OwnedResource(
                        workspaceId: record.workspaceId, kind: .storage, ref: workspace.root.path, owner: owner, state: nil,
                        createdAtMs: record.createdAtMs
                    )
                )
            }
            for snapshot in state.allSnapshots() {
                guard let record = snapshot.readRecord(), record.owner == owner else { continue }
                resources.append(
                    OwnedResource(
                        workspaceId: record.workspaceId, kind: .snapshot, ref: record.snapshotId, owner: owner, state: nil,
                        createdAtMs: record.createdAtMs
                    )
                )
            }
            return ListOwnedResponse(resources: resources)
        }
    }
}
