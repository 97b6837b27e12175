import Foundation
import ProviderWire

/// An `exec` or `session_open` request, validated once for every provider: the same refusals (INVALID_ARGUMENT,
/// naming the field) and the same defaults and bounds whatever the backend.
public struct ExecPlan: Sendable {
    /// Non-empty; no NUL bytes; at most ``ExecRequest/maxArgumentBytes`` together.
    public var argv: [String]
    /// Names are `[A-Za-z_][A-Za-z0-9_]*`; values hold no NUL byte.
    public var env: [String: String]
    /// Relative to the files root; the root when empty.
    public var workingDir: RelativePath
    public var stdin: [UInt8]
    public var timeoutMs: Int
    public var maxOutputBytes: Int

    /// Validates an `exec` request.
    public init(_ request: ExecRequest) throws(ProviderError) {
        try Identifier.validate(request.workspaceId, what: "workspace id")
        argv = try Self.validArgv(request.argv)
        env = try Self.validEnvironment(request.env ?? [:])
        workingDir = try RelativePath(request.workingDir ?? "", allowRoot: true)
        if let text = request.stdinBase64 {
            guard let data = Data(base64Encoded: text) else { throw .invalidArgument("stdin_base64 is not valid base64") }
            guard data.count <= ExecRequest.maxStdinBytes else {
                throw .invalidArgument("stdin is \(data.count) bytes; the limit is \(ExecRequest.maxStdinBytes)")
            }
            stdin = Array(data)
        } else {
            stdin = []
        }
        let timeout = request.timeoutMs ?? ExecRequest.defaultTimeoutMs
        guard (1...ExecRequest.maxTimeoutMs).contains(timeout) else {
            throw .invalidArgument("timeout_ms \(timeout) is outside 1...\(ExecRequest.maxTimeoutMs)")
        }
        timeoutMs = timeout
        let output = request.maxOutputBytes ?? ExecRequest.defaultOutputBytes
        guard (0...ExecRequest.maxOutputBytes).contains(output) else {
            throw .invalidArgument("max_output_bytes \(output) is outside 0...\(ExecRequest.maxOutputBytes)")
        }
        maxOutputBytes = output
    }

    /// Validates a `session_open` request (its pty size is ``PtySize``'s).
    public init(_ request: SessionOpenRequest) throws(ProviderError) {
        try Identifier.validate(request.workspaceId, what: "workspace id")
        argv = try Self.validArgv(request.argv ?? SessionOpenRequest.defaultArgv)
        env = try Self.validEnvironment(request.env ?? [:])
        workingDir = try RelativePath(request.workingDir ?? "", allowRoot: true)
        stdin = []
        timeoutMs = ExecRequest.maxTimeoutMs
        maxOutputBytes = SessionReadRequest.maxBytes
    }

    static func validArgv(_ argv: [String]) throws(ProviderError) -> [String] {
        guard let first = argv.first, !first.isEmpty else { throw .invalidArgument("argv is empty; it names the program to run") }
        if argv.contains(where: { $0.utf8.contains(0) }) { throw .invalidArgument("argv contains a NUL byte") }
        let bytes = argv.reduce(0) { $0 + $1.utf8.count + 1 }
        guard bytes <= ExecRequest.maxArgumentBytes else {
            throw .invalidArgument("argv is \(bytes) bytes; the limit is \(ExecRequest.maxArgumentBytes)")
        }
        return argv
    }

    static func validEnvironment(_ env: [String: String]) throws(ProviderError) -> [String: String] {
        for (name, value) in env {
            guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic),
                name.unicodeScalars.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) })
            else { throw .invalidArgument("env name \"\(name)\" is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)") }
            if value.utf8.contains(0) { throw .invalidArgument("env \(name) contains a NUL byte") }
        }
        return env
    }

    /// The command for a POSIX shell on a backend that only takes a command line (SSH): `cd DIR && exec env K=V ARGV`,
    /// every word single-quoted. `root` is the files root on that machine.
    public func shellCommand(root: String) -> String {
        let directory = workingDir.isRoot ? root : root + "/" + workingDir.string
        var words = ["exec"]
        if !env.isEmpty { words += ["env"] + env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } }
        words += argv
        return "cd " + Self.quote(directory) + " && "
            + words.enumerated().map { $0.offset == 0 ? $0.element : Self.quote($0.element) }.joined(separator: " ")
    }

    /// `text` as one single-quoted POSIX shell word.
    public static func quote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}

/// A pseudo-terminal's size, validated (1…``SessionOpenRequest/maxDimension`` each).
public struct PtySize: Sendable, Hashable {
    public var cols: Int
    public var rows: Int

    public init(cols: Int?, rows: Int?) throws(ProviderError) {
        let cols = cols ?? SessionOpenRequest.defaultCols
        let rows = rows ?? SessionOpenRequest.defaultRows
        let range = 1...SessionOpenRequest.maxDimension
        guard range.contains(cols), range.contains(rows) else {
            throw .invalidArgument("pty size \(cols)x\(rows) is outside 1...\(SessionOpenRequest.maxDimension) in each dimension")
        }
        self.cols = cols
        self.rows = rows
    }
}
