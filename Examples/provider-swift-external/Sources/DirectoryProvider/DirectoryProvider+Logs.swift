import Foundation
import ProviderKit
import ProviderWire

/// `logs`: the workspace's console log, which this backend fills with its own lifecycle lines (started, paused,
/// stopped …). The cursor is a byte offset into the log: with one, the answer is what was written after it.
extension DirectoryProvider: LogServingProvider {
    /// Most bytes one call returns.
    static let maximumLogBytes = 1 << 20

    func logs(_ request: LogsRequest, context: CallContext) throws -> LogsResponse {
        let workspace = try state.workspace(request.workspaceId)
        return try state.locked(.read, context: context) {
            _ = try workspace.requireRecord()
            guard let handle = try? FileHandle(forReadingFrom: workspace.consoleLog) else { return LogsResponse(content: "", cursor: "0") }
            defer { try? handle.close() }
            let end = try handle.seekToEnd()
            if let cursor = request.cursor {
                guard let offset = UInt64(cursor), offset <= end else {
                    throw ProviderError.invalidArgument("cursor \"\(cursor)\" is not valid for this log")
                }
                try handle.seek(toOffset: offset)
                let data = try handle.read(upToCount: Int(min(end - offset, UInt64(Self.maximumLogBytes)))) ?? Data()
                return LogsResponse(content: String(decoding: data, as: UTF8.self), cursor: String(offset + UInt64(data.count)))
            }
            try handle.seek(toOffset: end > UInt64(Self.maximumLogBytes) ? end - UInt64(Self.maximumLogBytes) : 0)
            let lines = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self).split(separator: "\n")
            let tail = lines.suffix(max(1, min(request.tailLines ?? 200, 10_000)))
            return LogsResponse(content: tail.map { "\($0)\n" }.joined(), cursor: String(end))
        }
    }
}
