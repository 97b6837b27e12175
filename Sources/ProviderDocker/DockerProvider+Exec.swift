import Foundation
import ProviderHTTP
import ProviderKit
import ProviderWire
import Synchronization

/// `exec` and sessions through the Engine's exec API: create, then a hijacked `exec/start` stream (libcurl connects;
/// the bytes flow on its socket), then the exit code from exec inspect.
///
/// The engine cannot signal an exec. Each one carries `MOLECULE_EXEC_MARK=<random>` in its environment, which its
/// children inherit; to kill it (timeout, cancellation, session close) a second exec signals every process of the
/// container whose environment holds the mark — the whole tree, with nothing left on disk.
extension DockerProvider: ExecutingProvider, SessionHostingProvider {
    /// An engine exec of `plan` in the workspace's container; NOT_FOUND when it does not run, CONFLICT while paused.
    func createExec(_ plan: ExecPlan, workspaceId: String, tty: Bool, stdin: Bool, mark: String, context: CallContext) throws -> String {
        let name = try containerName(workspaceId)
        if !plan.workingDir.isRoot {
            guard try node(name, Self.volumePath(plan.workingDir), context: context) == .directory else {
                throw ProviderError.invalidArgument("working_dir \"\(plan.workingDir)\" is not a directory in the workspace's files root")
            }
        }
        let env = plan.env.sorted { $0.key < $1.key }.map { JSONValue.string("\($0.key)=\($0.value)") } + [.string("MOLECULE_EXEC_MARK=\(mark)")]
        let body: JSONValue = [
            "AttachStdin": .bool(stdin), "AttachStdout": true, "AttachStderr": true, "Tty": .bool(tty),
            "Cmd": .array(plan.argv.map(JSONValue.string)), "Env": .array(env), "WorkingDir": .string(Self.volumePath(plan.workingDir)),
        ]
        let reply = try engine.request("POST", "/containers/\(name)/exec", body: WireCoding.encode(body), context: context)
        switch reply.status {
        case 404: throw ProviderError.notFound("workspace \(workspaceId) has no running instance")
        case 409 where reply.message.lowercased().contains("paused"):
            throw ProviderError.conflict("workspace \(workspaceId) is paused; resume it before running commands in it")
        case 409: throw ProviderError.notFound("workspace \(workspaceId) has no running instance: \(reply.message)")
        default: break
        }
        guard let id = try engine.check(reply, "exec create").json?["Id"]?.stringValue else {
            throw ProviderError.internal("exec create answered no id")
        }
        return id
    }

    /// Starts exec `id` attached: the hijacked stream, past the engine's 101 (or 200) answer.
    func attachExec(_ id: String, tty: Bool, context: CallContext) throws -> CurlStream {
        let body = Array(#"{"Detach":false,"Tty":\#(tty)}"#.utf8)
        let head =
            "POST /\(DockerEngine.apiVersion)/exec/\(id)/start HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\n"
            + "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: \(body.count)\r\n\r\n"
        let stream = try CurlStream.open(
            url: "http://localhost/", unixSocket: engine.socketPath, request: Array(head.utf8) + body,
            backend: "Docker engine at \(engine.socketPath) (exec start)", context: context)
        guard stream.status == 101 || stream.status == 200 else {
            let reply = DockerEngine.Reply(status: stream.status, body: stream.remainingBody())
            stream.close()
            try engine.check(reply, "exec start")
            throw ProviderError.internal("exec start answered \(stream.status)")
        }
        return stream
    }

    /// Kills every process of the container carrying `mark` (see the type's comment). Best effort, bounded.
    func killExec(mark: String, workspaceId: String) {
        guard let name = try? containerName(workspaceId) else { return }
        // Stopped first, all of them, then killed: a shell whose child died first must not run its next command.
        let script =
            "m=''; for p in /proc/[0-9]*; do tr '\\0' '\\n' < $p/environ 2>/dev/null | grep -qx 'MOLECULE_EXEC_MARK=\(mark)' "
            + "&& m=\"$m ${p#/proc/}\"; done; [ -n \"$m\" ] && kill -STOP $m; [ -n \"$m\" ] && kill -9 $m; true"
        _ = try? exec(name, ["/bin/sh", "-c", script], context: CallContext.direct(.exec).detached(seconds: 10))
    }

    func exec(_ request: ExecRequest, context: CallContext) throws -> ExecResponse {
        let plan = try ExecPlan(request)
        let mark = UUID().uuidString.lowercased()
        let started = MonotonicClock.now()
        let id = try createExec(plan, workspaceId: request.workspaceId, tty: false, stdin: !plan.stdin.isEmpty, mark: mark, context: context)
        let stream = try attachExec(id, tty: false, context: context)
        defer { stream.close() }
        if !plan.stdin.isEmpty {
            _ = try stream.writeAll(plan.stdin, deadline: started &+ UInt64(plan.timeoutMs) &* 1_000_000)
            stream.closeWrite()
        }
        var stdout = OutputCapture(limit: plan.maxOutputBytes)
        var stderr = OutputCapture(limit: plan.maxOutputBytes)
        var frames = EngineFrames()
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        let killAt = started &+ UInt64(plan.timeoutMs) &* 1_000_000
        var killedAt: UInt64?
        var timedOut = false
        while true {
            guard let count = stream.read(into: &buffer, timeoutMs: 20) else { break }
            if count > 0 {
                frames.feed(buffer.prefix(count)) { kind, bytes in
                    if kind == 2 { stderr.append(bytes) } else { stdout.append(bytes) }
                }
            }
            let now = MonotonicClock.now()
            if killedAt == nil, now >= killAt || context.isCancelled {
                timedOut = now >= killAt
                killExec(mark: mark, workspaceId: request.workspaceId)
                killedAt = MonotonicClock.now()
            }
            if let killedAt, MonotonicClock.now() &- killedAt > 2_000_000_000 { break }
        }
        if killedAt != nil, !timedOut {
            throw ProviderError.deadlineExceeded("exec of \(plan.argv[0]) was cancelled; the command was killed")
        }
        var exitCode = try execExitCode(id, plan.argv, context: killedAt == nil ? context : context.detached())
        if frames.missingProgram(exitCode: exitCode, output: stdout.bytes + stderr.bytes) { exitCode = 127 }
        return ExecResponse(exitCode: exitCode, timedOut: timedOut, stdout: stdout, stderr: stderr, startedAt: started)
    }

    func openSession(
        _ plan: ExecPlan, size: PtySize, workspaceId: String, output: SessionOutput, context: CallContext
    ) throws
        -> any SessionChannel
    {
        let mark = UUID().uuidString.lowercased()
        let id = try createExec(plan, workspaceId: workspaceId, tty: true, stdin: true, mark: mark, context: context)
        let stream = try attachExec(id, tty: true, context: context)
        let channel = EngineExecChannel(provider: self, execId: id, mark: mark, workspaceId: workspaceId, stream: stream, argv: plan.argv)
        try? channel.resize(size)
        channel.startReading(into: output)
        return channel
    }
}

/// The engine's multiplexed stream (8-byte headers: stream 0/1/2, three zeros, big-endian length), parsed as it
/// arrives in pieces.
struct EngineFrames {
    private var pending: [UInt8] = []
    /// Whatever the stream said before the first frame header, when it was not multiplexed (an engine error).
    private(set) var raw: [UInt8] = []

    /// Adds bytes; calls `deliver(stream, bytes)` for each complete frame.
    mutating func feed(_ bytes: some Collection<UInt8>, deliver: (UInt8, [UInt8]) -> Void) {
        pending += bytes
        var index = 0
        while pending.count - index >= 8 {
            let kind = pending[index]
            guard kind <= 2, pending[index + 1] == 0, pending[index + 2] == 0, pending[index + 3] == 0 else {
                raw += pending[index...]
                index = pending.count
                break
            }
            let length = Int(pending[index + 4]) << 24 | Int(pending[index + 5]) << 16 | Int(pending[index + 6]) << 8 | Int(pending[index + 7])
            guard pending.count - index - 8 >= length else { break }
            deliver(kind, Array(pending[(index + 8)..<(index + 8 + length)]))
            index += 8 + length
        }
        pending.removeFirst(index)
    }

    /// The engine reports a program it could not find as exit 126 or 127 with an OCI message; a shell says 127.
    func missingProgram(exitCode: Int, output: [UInt8]) -> Bool {
        guard exitCode == 126 || exitCode == 127 else { return false }
        let said = String(decoding: output + raw, as: UTF8.self).lowercased()
        return said.contains("executable file not found") || said.contains("no such file or directory")
    }
}

/// A session's hijacked exec stream (a tty: raw bytes, not multiplexed).
final class EngineExecChannel: SessionChannel, @unchecked Sendable {
    let provider: DockerProvider
    let execId: String
    let mark: String
    let workspaceId: String
    let stream: CurlStream
    let argv: [String]
    private let ended = Atomic<Bool>(false)

    init(provider: DockerProvider, execId: String, mark: String, workspaceId: String, stream: CurlStream, argv: [String]) {
        self.provider = provider
        self.execId = execId
        self.mark = mark
        self.workspaceId = workspaceId
        self.stream = stream
        self.argv = argv
    }

    func startReading(into output: SessionOutput) {
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 16 << 10)
            while let count = stream.read(into: &buffer, timeoutMs: 500) {
                if count > 0 { buffer.withUnsafeBytes { output.append(UnsafeRawBufferPointer(rebasing: $0.prefix(count))) } }
            }
            stream.close()
            let code = (try? provider.execExitCode(execId, argv, context: CallContext.direct(.sessionRead).detached(seconds: 5))) ?? 137
            output.finish(exitCode: code)
        }
    }

    func write(_ bytes: [UInt8]) throws(ProviderError) -> Int {
        guard try stream.writeAll(bytes, deadline: MonotonicClock.deadline(afterMilliseconds: 1000)) else {
            throw .conflict("the session's stream is closed")
        }
        return bytes.count
    }

    func resize(_ size: PtySize) throws(ProviderError) {
        let context = CallContext.direct(.sessionResize).detached(seconds: 5)
        let reply = try provider.engine.request("POST", "/exec/\(execId)/resize?h=\(size.rows)&w=\(size.cols)", context: context)
        try provider.engine.check(reply, "exec resize")
    }

    func terminate() {
        guard !ended.exchange(true, ordering: .relaxed) else { return }
        provider.killExec(mark: mark, workspaceId: workspaceId)
        stream.shutdownBoth()
    }
}
