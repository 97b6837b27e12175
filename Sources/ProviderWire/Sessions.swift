/// `session_open`: starts `argv` (default: the workspace's shell) on a pseudo-terminal of `cols` × `rows`.
public struct SessionOpenRequest: Sendable, Hashable, Codable {
    public var workspaceId: String
    /// Absent: `["/bin/sh", "-i"]`.
    public var argv: [String]?
    public var env: [String: String]?
    /// Relative to the files root (absent = the files root).
    public var workingDir: String?
    public var cols: Int?
    public var rows: Int?

    public static let defaultArgv = ["/bin/sh", "-i"]
    public static let defaultCols = 80
    public static let defaultRows = 24
    /// Pty sizes outside 1…1000 are INVALID_ARGUMENT.
    public static let maxDimension = 1000

    public init(
        workspaceId: String, argv: [String]? = nil, env: [String: String]? = nil, workingDir: String? = nil, cols: Int? = nil,
        rows: Int? = nil
    ) {
        self.workspaceId = workspaceId
        self.argv = argv
        self.env = env
        self.workingDir = workingDir
        self.cols = cols
        self.rows = rows
    }

    enum CodingKeys: String, CodingKey {
        case workspaceId = "workspace_id"
        case argv, env
        case workingDir = "working_dir"
        case cols, rows
    }
}

/// `session_open` response.
public struct SessionOpenResponse: Sendable, Hashable, Codable {
    /// Opaque, unique within the provider instance; names the session in every later session verb.
    public var sessionId: String
    public init(sessionId: String) { self.sessionId = sessionId }
    enum CodingKeys: String, CodingKey { case sessionId = "session_id" }
}

/// `session_close` (and the address of every session verb): a workspace's session.
public struct SessionRef: Sendable, Hashable, Codable {
    public var workspaceId: String
    public var sessionId: String
    public init(workspaceId: String, sessionId: String) {
        self.workspaceId = workspaceId
        self.sessionId = sessionId
    }
    enum CodingKeys: String, CodingKey {
        case workspaceId = "workspace_id"
        case sessionId = "session_id"
    }
}

/// `session_write`: bytes for the session's input (keystrokes; `\u{4}` is end-of-file on a pty).
public struct SessionWriteRequest: Sendable, Hashable, Codable {
    public var workspaceId: String
    public var sessionId: String
    public var dataBase64: String
    /// The most bytes one write may carry.
    public static let maxBytes = 1 << 20
    public init(workspaceId: String, sessionId: String, dataBase64: String) {
        self.workspaceId = workspaceId
        self.sessionId = sessionId
        self.dataBase64 = dataBase64
    }
    enum CodingKeys: String, CodingKey {
        case workspaceId = "workspace_id"
        case sessionId = "session_id"
        case dataBase64 = "data_base64"
    }
}

/// `session_write` response: how many bytes the session took.
public struct SessionWriteResponse: Sendable, Hashable, Codable {
    public var written: Int
    public init(written: Int) { self.written = written }
}

/// `session_read` — the ABI's one streaming shape: output after a byte `cursor`, waiting up to `wait_ms` for some.
///
/// A session's output is one byte stream numbered from 0. A reader passes the `cursor` the previous read answered
/// (0 at first) and gets the bytes from there on; it never sees a byte twice and misses none unless the provider's
/// bounded buffer dropped them first, which `dropped` counts. A read that finds nothing waits until output arrives,
/// the command exits, `wait_ms` passes or the call is cancelled.
public struct SessionReadRequest: Sendable, Hashable, Codable {
    public var workspaceId: String
    public var sessionId: String
    public var cursor: Int64
    /// 0 = answer at once; at most ``maxWaitMs``.
    public var waitMs: Int?
    /// The most bytes answered (default and maximum ``maxBytes``).
    public var maxBytes: Int?

    public static let maxWaitMs = 5_000
    public static let maxBytes = 1 << 20

    public init(workspaceId: String, sessionId: String, cursor: Int64, waitMs: Int? = nil, maxBytes: Int? = nil) {
        self.workspaceId = workspaceId
        self.sessionId = sessionId
        self.cursor = cursor
        self.waitMs = waitMs
        self.maxBytes = maxBytes
    }

    enum CodingKeys: String, CodingKey {
        case workspaceId = "workspace_id"
        case sessionId = "session_id"
        case cursor
        case waitMs = "wait_ms"
        case maxBytes = "max_bytes"
    }
}

/// `session_read` response.
public struct SessionReadResponse: Sendable, Hashable, Codable {
    public var dataBase64: String
    /// Pass this as the next read's `cursor`.
    public var cursor: Int64
    /// Bytes between the request's cursor and the oldest byte still buffered, lost to the buffer's bound.
    public var dropped: Int64
    /// The command has exited and every byte of its output has been read.
    public var exited: Bool
    /// Set with `exited` (128 + N for signal N).
    public var exitCode: Int?

    public init(dataBase64: String, cursor: Int64, dropped: Int64, exited: Bool, exitCode: Int?) {
        self.dataBase64 = dataBase64
        self.cursor = cursor
        self.dropped = dropped
        self.exited = exited
        self.exitCode = exitCode
    }

    enum CodingKeys: String, CodingKey {
        case dataBase64 = "data_base64"
        case cursor, dropped, exited
        case exitCode = "exit_code"
    }
}

/// `session_resize`.
public struct SessionResizeRequest: Sendable, Hashable, Codable {
    public var workspaceId: String
    public var sessionId: String
    public var cols: Int
    public var rows: Int
    public init(workspaceId: String, sessionId: String, cols: Int, rows: Int) {
        self.workspaceId = workspaceId
        self.sessionId = sessionId
        self.cols = cols
        self.rows = rows
    }
    enum CodingKeys: String, CodingKey {
        case workspaceId = "workspace_id"
        case sessionId = "session_id"
        case cols, rows
    }
}

/// `session_resize` and `session_close` response. `closed` is false when `session_close` found no such session.
public struct SessionStatusResponse: Sendable, Hashable, Codable {
    public var closed: Bool?
    public var exitCode: Int?
    public init(closed: Bool? = nil, exitCode: Int? = nil) {
        self.closed = closed
        self.exitCode = exitCode
    }
    enum CodingKeys: String, CodingKey {
        case closed
        case exitCode = "exit_code"
    }
}
