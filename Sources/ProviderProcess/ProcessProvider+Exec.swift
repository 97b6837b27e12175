import CProcessSupport
import Foundation
import ProviderKit
import ProviderWire

#if canImport(Glibc)
import Glibc
#endif

extension ProcessProvider: ExecutingProvider {
    /// Runs the command as the workload runs (see ``CommandTarget``), its output read from pipes as it comes (a full
    /// pipe never blocks it); killed — its whole process group — at its timeout, on cancellation and by `stop`.
    func exec(_ request: ExecRequest, context: CallContext) throws -> ExecResponse {
        let plan = try ExecPlan(request)
        let target = try CommandTarget(plan, workspaceId: request.workspaceId, provider: self)
        var input: [Int32] = [-1, -1]
        var output: [Int32] = [-1, -1]
        var errors: [Int32] = [-1, -1]
        guard molecule_pipe(&input) == 0, molecule_pipe(&output) == 0, molecule_pipe(&errors) == 0 else {
            let reason = String(cString: strerror(errno))
            for fd in input + output + errors where fd >= 0 { close(fd) }
            throw ProviderError.unavailable("cannot create pipes for exec: \(reason)")
        }
        let started = MonotonicClock.now()
        var stdout = OutputCapture(limit: plan.maxOutputBytes)
        var stderr = OutputCapture(limit: plan.maxOutputBytes)
        let spawned = target.spawn(stdin: input[0], stdout: output[1], stderr: errors[1], controllingTTY: false)
        close(input[0])
        close(output[1])
        close(errors[1])
        guard case .success(let pid) = spawned else {
            for fd in [input[1], output[0], errors[0]] { close(fd) }
            if case .failure(let error) = spawned { stderr.append(Array(target.startFailure(error).utf8)) }
            return ExecResponse(exitCode: 127, timedOut: false, stdout: stdout, stderr: stderr, startedAt: started)
        }
        commands.add(pid, workspaceId: request.workspaceId)
        for fd in [input[1], output[0], errors[0]] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        var pump = ExecPump(stdinFD: input[1], stdoutFD: output[0], stderrFD: errors[0], stdin: plan.stdin)
        let killAt = started &+ UInt64(plan.timeoutMs) &* 1_000_000
        var timedOut = false
        var cancelled = false
        var exitedAt: UInt64?
        var killedAt: UInt64?
        // Bounded: the command is killed at its timeout, and after it exits (or is killed) its output is drained for
        // at most a moment more (a background child may hold the pipes open).
        while true {
            pump.step(stdout: &stdout, stderr: &stderr, pollMs: 20)
            let now = MonotonicClock.now()
            if exitedAt == nil, molecule_has_exited(pid) == 1 { exitedAt = now }
            if let exitedAt, pump.outputClosed || now &- exitedAt > 200_000_000 { break }
            if killedAt == nil, now >= killAt || context.isCancelled {
                timedOut = now >= killAt
                cancelled = !timedOut
                kill(-pid, SIGKILL)
                kill(pid, SIGKILL)
                killedAt = now
            }
            if let killedAt, now &- killedAt > 2_000_000_000 { break }
        }
        pump.close()
        commands.remove(pid, workspaceId: request.workspaceId)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        if cancelled { throw ProviderError.deadlineExceeded("exec of \(target.program) was cancelled; the command was killed") }
        return ExecResponse(exitCode: shellExitCode(status), timedOut: timedOut, stdout: stdout, stderr: stderr, startedAt: started)
    }
}

/// Moves an exec command's stdin in and its stdout and stderr out, without blocking on any of them.
struct ExecPump {
    private var stdinFD: Int32
    private var stdoutFD: Int32
    private var stderrFD: Int32
    private let stdin: [UInt8]
    private var written = 0
    private var buffer = [UInt8](repeating: 0, count: 64 << 10)

    init(stdinFD: Int32, stdoutFD: Int32, stderrFD: Int32, stdin: [UInt8]) {
        self.stdinFD = stdinFD
        self.stdoutFD = stdoutFD
        self.stderrFD = stderrFD
        self.stdin = stdin
        if stdin.isEmpty { closeInput() }
    }

    /// Both output pipes reached end-of-file.
    var outputClosed: Bool { stdoutFD < 0 && stderrFD < 0 }

    /// Waits up to `pollMs` for any pipe to be ready, then moves what it can.
    mutating func step(stdout: inout OutputCapture, stderr: inout OutputCapture, pollMs: Int32) {
        var fds = [
            pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0), pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0),
        ]
        if poll(&fds, 3, pollMs) <= 0 { return }
        if fds[0].revents != 0 { stdoutFD = drain(stdoutFD, into: &stdout) }
        if fds[1].revents != 0 { stderrFD = drain(stderrFD, into: &stderr) }
        if fds[2].revents != 0 { feed() }
    }

    /// Reads what `fd` has into `capture`; answers the fd, or -1 once it reached end-of-file (and was closed).
    private mutating func drain(_ fd: Int32, into capture: inout OutputCapture) -> Int32 {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count > 0 {
            buffer.withUnsafeBytes { capture.append(UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
        } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
            Glibc.close(fd)
            return -1
        }
        return fd
    }

    private mutating func feed() {
        let count = stdin.withUnsafeBytes { write(stdinFD, $0.baseAddress! + written, $0.count - written) }
        if count > 0 { written += count }
        if written >= stdin.count || (count < 0 && errno != EAGAIN && errno != EINTR) { closeInput() }
    }

    private mutating func closeInput() {
        if stdinFD >= 0 { Glibc.close(stdinFD) }
        stdinFD = -1
    }

    mutating func close() {
        for fd in [stdinFD, stdoutFD, stderrFD] where fd >= 0 { Glibc.close(fd) }
        (stdinFD, stdoutFD, stderrFD) = (-1, -1, -1)
    }
}
