import Foundation
import ProviderWire

/// One stream of an `exec` command's output, kept up to a byte limit: the rest is read (so the command never blocks
/// on a full pipe) and dropped, and ``truncated`` says so.
public struct OutputCapture: Sendable {
    public let limit: Int
    public private(set) var bytes: [UInt8] = []
    public private(set) var truncated = false

    public init(limit: Int) { self.limit = limit }

    public mutating func append(_ chunk: UnsafeRawBufferPointer) {
        let room = limit - bytes.count
        if chunk.count > room { truncated = true }
        if room > 0 { bytes.append(contentsOf: chunk.prefix(room)) }
    }

    public mutating func append(_ chunk: [UInt8]) { chunk.withUnsafeBytes { append($0) } }

    public var base64: String { Data(bytes).base64EncodedString() }
}

extension ExecResponse {
    /// The response for a command that ended with `exitCode` after `started` (MonotonicClock nanoseconds).
    public init(exitCode: Int, timedOut: Bool, stdout: OutputCapture, stderr: OutputCapture, startedAt started: UInt64) {
        self.init(
            exitCode: exitCode, timedOut: timedOut, stdoutBase64: stdout.base64, stderrBase64: stderr.base64,
            stdoutTruncated: stdout.truncated, stderrTruncated: stderr.truncated,
            durationMs: Int64((MonotonicClock.now() &- started) / 1_000_000)
        )
    }
}
