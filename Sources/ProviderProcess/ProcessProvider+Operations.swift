import Foundation
import ProviderKit
import ProviderWire

extension ProcessProvider: LogServingProvider {
    /// Most bytes one `logs` call returns.
    static let maximumLogBytes = 1 << 20

    func logs(_ request: LogsRequest, context: CallContext) throws -> LogsResponse {
        let workspace = try layout.workspace(request.workspaceId).requireExisting()
        guard let handle = try? FileHandle(forReadingFrom: workspace.consoleLog) else {
            return LogsResponse(content: "", cursor: "0")
        }
        defer { try? handle.close() }
        let end = try handle.seekToEnd()
        if let cursor = request.cursor {
            guard let offset = UInt64(cursor), offset <= end else {
                throw ProviderError.invalidArgument("cursor \"\(cursor)\" is not valid for this log")
            }
            let length = min(end - offset, UInt64(Self.maximumLogBytes))
            try handle.seek(toOffset: offset)
            let data = try handle.read(upToCount: Int(length)) ?? Data()
            return LogsResponse(content: String(decoding: data, as: UTF8.self), cursor: String(offset + UInt64(data.count)))
        }
        let start = end > UInt64(Self.maximumLogBytes) ? end - UInt64(Self.maximumLogBytes) : 0
        try handle.seek(toOffset: start)
        let data = try handle.readToEnd() ?? Data()
        return LogsResponse(content: LogTail.lastLines(of: String(decoding: data, as: UTF8.self), requested: request.tailLines), cursor: String(end))
    }
}

extension ProcessProvider: DiagnosingProvider {
    func diagnose(_ request: WorkspaceRef, context: CallContext) throws -> DiagnoseResponse {
        let workspace = try layout.unchecked(workspace: request.workspaceId)
        var recorder = DiagnoseRecorder()
        recorder.stage("state-dir") {
            try layout.ensureUsable()
            return layout.root.path
        }
        recorder.stage("workspace-found") {
            guard let meta = workspace.readMeta() else { throw ProviderError.notFound("no metadata for workspace \(request.workspaceId)") }
            return "owner=\(meta.owner) state=\(meta.state.rawValue)"
        }
        recorder.stage("process-alive") {
            guard let meta = workspace.readMeta(), meta.state == .running, let workload = meta.workload else {
                throw ProviderError.notFound("workspace has no running instance")
            }
            guard workload.isAlive else {
                let reason = endReason(workspace, meta: meta)
                throw ProviderError.notFound("process \(workload.pid) is gone: \(reason.limit ?? reason.ended)")
            }
            return "pid=\(workload.pid) supervisor=\(workload.supervisor) state=\(workload.state.rawValue) processes=\(workload.members.count)"
        }
        recorder.stage("containment") {
            let meta = workspace.readMeta()
            guard let cgroup = meta?.cgroup else { return containment.summary }
            let usage = cgroup.usage
            let limits = config.limits(tier: meta?.tier)
            func mib(_ bytes: Int64?) -> String { bytes.map { "\($0 >> 20) MiB" } ?? "?" }
            var parts = ["cgroup \(cgroup.primary.path) (v\(cgroup.primary.version))"]
            if cgroup.memory != nil { parts.append("memory \(mib(usage.memoryBytes)) of \(limits.memoryMb.map { "\($0) MiB" } ?? "unlimited")") }
            if cgroup.pids != nil { parts.append("pids \(usage.pids.map(String.init) ?? "?") of \(limits.pids.map(String.init) ?? "unlimited")") }
            if let cpus = limits.cpus { parts.append("cpus \(cpus)") }
            if let used = usage.cpuMicroseconds { parts.append("cpu time \(used / 1000) ms") }
            parts.append("oom_kills \(usage.oomKills), pids_limit_hits \(usage.pidsLimitHits)")
            return parts.joined(separator: ", ")
        }
        recorder.stage("files-root") {
            guard access(workspace.configs.path, W_OK) == 0 else { throw ProviderError.internal("\(workspace.configs.path) is not writable") }
            return workspace.configs.path
        }
        return recorder.response
    }
}

extension ProcessProvider: StorageOwningProvider {
    func removeStorage(_ request: WorkspaceRef, context: CallContext) throws -> RemoveStorageResponse {
        let workspace = try layout.workspace(request.workspaceId)
        return try locked(request.workspaceId) {
            guard FileManager.default.fileExists(atPath: workspace.root.path) else { return RemoveStorageResponse(removed: false) }
            if try runningWorkload(workspace) != nil {
                throw ProviderError.conflict("workspace \(request.workspaceId) is running; stop it before removing its storage")
            }
            // Its port goes with its meta.json; a cgroup left by a stop that never came goes too.
            workspace.readMeta()?.cgroup?.remove()
            try FileManager.default.removeItem(at: workspace.root)
            return RemoveStorageResponse(removed: true)
        }
    }
}
