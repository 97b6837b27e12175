import Foundation
import ProviderWire

/// A workspace backend written in Swift. Conform, then export it with one call (see ``ProviderExport``).
///
/// The verbs here are the core every provider implements. Optional verbs come from the capability protocols
/// (``PausingProvider``, ``SnapshottingProvider``, ``FileServingProvider``, ``PluginHostingProvider``,
/// ``LogServingProvider``, ``DiagnosingProvider``, ``StorageOwningProvider``): a verb whose protocol the type does not
/// adopt gets a NULL slot, which the Host answers as UNSUPPORTED — so the manifest can never claim what the code lacks.
///
/// Verbs are synchronous and may block: the Host calls them on its own worker threads, concurrently. Honour
/// `context.deadline` in loops (``CallContext/checkDeadline()``).
public protocol WorkspaceProvider: Sendable {
    /// The provider's unique name (`process`, `docker`, `ec2`, …).
    static var name: String { get }
    /// The provider's semantic version.
    static var version: String { get }
    /// One line for operators.
    static var summary: String { get }
    /// Why each unclaimed verb is unsupported (by wire name), shown in the parity matrix.
    static var unsupportedReasons: [String: String] { get }
    /// The promises beyond its verbs the provider makes (its manifest's `features`); the contract suite tests each.
    static var features: [ProviderFeature] { get }

    /// Creates an instance from the operator's configuration. Must not contact the backend.
    init(configuration: ProviderConfiguration) throws

    /// Identity and backend reachability; throw ``ProviderError/unavailable(_:nativeCode:)`` when the backend is down.
    func describe(context: CallContext) throws -> DescribeResponse
    /// Creates and starts the workspace's instance; idempotent per workspace id.
    func provision(_ request: ProvisionRequest, context: CallContext) throws -> ProvisionResponse
    /// Stops and removes the instance, keeping its storage. Unknown or stopped: succeed with `stopped: false`.
    func stop(_ request: WorkspaceRef, context: CallContext) throws -> StopResponse
    /// The instance's state; an unknown workspace is `absent`, not an error.
    func inspect(_ request: WorkspaceRef, context: CallContext) throws -> InspectResponse
    /// Every instance, storage and snapshot created for the owner.
    func listOwned(_ request: ListOwnedRequest, context: CallContext) throws -> ListOwnedResponse
}

extension WorkspaceProvider {
    public static var summary: String { "" }
    public static var unsupportedReasons: [String: String] { [:] }
    public static var features: [ProviderFeature] { [] }
}

/// `pause` / `resume`. Pausing a paused instance and resuming a running one succeed.
public protocol PausingProvider: WorkspaceProvider {
    func pause(_ request: WorkspaceRef, context: CallContext) throws -> InspectResponse
    func resume(_ request: WorkspaceRef, context: CallContext) throws -> InspectResponse
}

/// `snapshot` / `restore`.
public protocol SnapshottingProvider: WorkspaceProvider {
    func snapshot(_ request: WorkspaceRef, context: CallContext) throws -> SnapshotResponse
    /// Provisions `request.workspaceId` from `request.snapshotId`.
    func restore(_ request: ProvisionRequest, context: CallContext) throws -> ProvisionResponse
}

/// The files verbs, relative to the workspace's files root (`/configs`). Validate paths with ``RelativePath``.
public protocol FileServingProvider: WorkspaceProvider {
    func listFiles(_ request: ListFilesRequest, context: CallContext) throws -> ListFilesResponse
    func readFile(_ request: FilePathRequest, context: CallContext) throws -> FileContent
    func writeFile(_ request: WriteFileRequest, context: CallContext) throws -> FileWriteResponse
    func deleteFile(_ request: FilePathRequest, context: CallContext) throws -> FileWriteResponse
}

/// The plugin verbs: plugins live in `<files root>/plugins/<name>`.
public protocol PluginHostingProvider: WorkspaceProvider {
    func installPlugin(_ request: InstallPluginRequest, context: CallContext) throws -> PluginInfo
    func uninstallPlugin(_ request: PluginRef, context: CallContext) throws -> PluginInfo
    func listPlugins(_ request: WorkspaceRef, context: CallContext) throws -> ListPluginsResponse
}

/// `logs`: the boot/console log.
public protocol LogServingProvider: WorkspaceProvider {
    func logs(_ request: LogsRequest, context: CallContext) throws -> LogsResponse
}

/// `diagnose`: a staged probe of the path from the Host to the workspace.
public protocol DiagnosingProvider: WorkspaceProvider {
    func diagnose(_ request: WorkspaceRef, context: CallContext) throws -> DiagnoseResponse
}

/// `remove_storage`: delete what `stop` kept.
public protocol StorageOwningProvider: WorkspaceProvider {
    func removeStorage(_ request: WorkspaceRef, context: CallContext) throws -> RemoveStorageResponse
}

/// `exec` (ABI 1.1): runs a command to completion in a running workspace. Validate with ``ExecPlan``; keep output
/// with ``OutputCapture``. A command still running at its timeout, at the call's cancellation or at `stop` is killed.
public protocol ExecutingProvider: WorkspaceProvider {
    func exec(_ request: ExecRequest, context: CallContext) throws -> ExecResponse
}

/// The session verbs (ABI 1.1): interactive commands on a pseudo-terminal. A conforming type starts the command
/// (``openSession(_:size:workspaceId:output:context:)``); ``SessionTable`` and ``SessionOutput`` do the rest — the
/// same ids, bounds, cursor semantics and errors on every backend. `stop` must call
/// ``SessionTable/closeAll(workspaceId:)``.
public protocol SessionHostingProvider: WorkspaceProvider {
    /// This instance's open sessions.
    var sessions: SessionTable { get }
    /// Starts `plan.argv` in the running workspace on a pty of `size`, its output appended to `output` by a reader the
    /// backend runs, which calls ``SessionOutput/finish(exitCode:)`` when the command ends.
    func openSession(
        _ plan: ExecPlan, size: PtySize, workspaceId: String, output: SessionOutput, context: CallContext
    ) throws
        -> any SessionChannel
}

extension SessionHostingProvider {
    public func sessionOpen(_ request: SessionOpenRequest, context: CallContext) throws -> SessionOpenResponse {
        let plan = try ExecPlan(request)
        let size = try PtySize(cols: request.cols, rows: request.rows)
        let session = try sessions.open(workspaceId: request.workspaceId) { output in
            try openSession(plan, size: size, workspaceId: request.workspaceId, output: output, context: context)
        }
        return SessionOpenResponse(sessionId: session.id)
    }

    public func sessionWrite(_ request: SessionWriteRequest, context: CallContext) throws -> SessionWriteResponse {
        let session = try sessions.session(request.workspaceId, request.sessionId)
        guard let data = Data(base64Encoded: request.dataBase64) else { throw ProviderError.invalidArgument("data_base64 is not valid base64") }
        guard data.count <= SessionWriteRequest.maxBytes else {
            throw ProviderError.invalidArgument("a write carries at most \(SessionWriteRequest.maxBytes) bytes; this one has \(data.count)")
        }
        if session.output.isFinished { throw ProviderError.conflict("session \(request.sessionId) has exited; it takes no more input") }
        return SessionWriteResponse(written: try session.channel.write(Array(data)))
    }

    public func sessionRead(_ request: SessionReadRequest, context: CallContext) throws -> SessionReadResponse {
        try sessions.session(request.workspaceId, request.sessionId).output.read(request, context: context)
    }

    public func sessionResize(_ request: SessionResizeRequest, context: CallContext) throws -> SessionStatusResponse {
        let session = try sessions.session(request.workspaceId, request.sessionId)
        try session.channel.resize(try PtySize(cols: request.cols, rows: request.rows))
        return SessionStatusResponse()
    }

    public func sessionClose(_ request: SessionRef, context: CallContext) throws -> SessionStatusResponse {
        try Identifier.validate(request.workspaceId, what: "workspace id")
        return sessions.close(request)
    }
}
