/// `exec`: runs `argv` to completion in the workspace — as its own processes, in its files root by default — and
/// answers its exit code and output. The command is killed when `timeout_ms` passes (answered `timed_out: true`) or
/// when the call is cancelled.
public struct ExecRequest: Sendable, Hashable, Codable {
    public var workspaceId: String
    /// The program and its arguments; `argv[0]` is looked up in the workspace's `PATH`. Never passed to a shell.
    public var argv: [String]
    /// Variables added to the workspace's environment for this command.
    public var env: [String: String]?
    /// The working directory, relative to the files root (`""` or absent = the files root).
    public var workingDir: String?
    /// Bytes written to the command's standard input, which is then closed (absent: an empty input).
    public var stdinBase64: String?
    /// Milliseconds after which the command is killed; default ``defaultTimeoutMs``, at most ``maxTimeoutMs``.
    public var timeoutMs: Int?
    /// The most bytes kept of each of stdout and stderr (the rest is read and dropped, and `*_truncated` says so);
    /// default ``defaultOutputBytes``, at most ``maxOutputBytes``.
    public var maxOutputBytes: Int?

    public static let defaultTimeoutMs = 30_000
    public static let maxTimeoutMs = 3_600_000
    public static let defaultOutputBytes = 1 << 20
    public static let maxOutputBytes = 16 << 20
    /// The longest `argv` (all arguments together, bytes) and the largest stdin accepted.
    public static let maxArgumentBytes = 128 << 10
    public static let maxStdinBytes = 16 << 20

    public init(
        workspaceId: String, argv: [String], env: [String: String]? = nil, workingDir: String? = nil, stdinBase64: String? = nil,
        timeoutMs: Int? = nil, maxOutputBytes: Int? = nil
    ) {
        self.workspaceId = workspaceId
        self.argv = argv
        self.env = env
        self.workingDir = workingDir
        self.stdinBase64 = stdinBase64
        self.timeoutMs = timeoutMs
        self.maxOutputBytes = maxOutputBytes
    }

    enum CodingKeys: String, CodingKey {
        case workspaceId = "workspace_id"
        case argv, env
        case workingDir = "working_dir"
        case stdinBase64 = "stdin_base64"
        case timeoutMs = "timeout_ms"
        case maxOutputBytes = "max_output_bytes"
    }
}

/// `exec` response. `exit_code` follows the shell's convention: a command killed by signal N exits 128 + N (a command
/// killed at its timeout is 137, with `timed_out`).
public struct ExecResponse: Sendable, Hashable, Codable {
    public var exitCode: Int
    public var timedOut: Bool
    public var stdoutBase64: String
    public var stderrBase64: String
    public var stdoutTruncated: Bool
    public var stderrTruncated: Bool
    /// Wall time from start to exit, milliseconds.
    public var durationMs: Int64

    public init(
        exitCode: Int, timedOut: Bool, stdoutBase64: String, stderrBase64: String, stdoutTruncated: Bool, stderrTruncated: Bool,
        durationMs: Int64
    ) {
        self.exitCode = exitCode
        self.timedOut = timedOut
        self.stdoutBase64 = stdoutBase64
        self.stderrBase64 = stderrBase64
        self.stdoutTruncated = stdoutTruncated
        self.stderrTruncated = stderrTruncated
        self.durationMs = durationMs
    }

    enum CodingKeys: String, CodingKey {
        case exitCode = "exit_code"
        case timedOut = "timed_out"
        case stdoutBase64 = "stdout_base64"
        case stderrBase64 = "stderr_base64"
        case stdoutTruncated = "stdout_truncated"
        case stderrTruncated = "stderr_truncated"
        case durationMs = "duration_ms"
    }
}
