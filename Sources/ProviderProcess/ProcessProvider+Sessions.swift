import CProcessSupport
import Foundation
import ProviderKit
import ProviderWire
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

extension ProcessProvider: SessionHostingProvider {
    /// Starts the command on a new pty as its controlling terminal (``CommandTarget`` says as whom and where); a
    /// reader thread moves its output into `output` until the command and every holder of the pty are gone.
    func openSession(
        _ plan: ExecPlan, size: PtySize, workspaceId: String, output: SessionOutput, context: CallContext
    ) throws
        -> any SessionChannel
    {
        let target = try CommandTarget(plan, workspaceId: workspaceId, provider: self)
        var master: Int32 = -1
        var slave: Int32 = -1
        let opened = molecule_open_pty(&master, &slave, UInt16(size.cols), UInt16(size.rows))
        guard opened == 0 else { throw ProviderError.unavailable("cannot open a pseudo-terminal: \(String(cString: strerror(-opened)))") }
        let spawned = target.spawn(stdin: slave, stdout: slave, stderr: slave, controllingTTY: true)
        close(slave)
        switch spawned {
        case .failure(let error):
            close(master)
            throw ProviderError.invalidArgument("cannot start \(target.program) in workspace \(workspaceId): \(error.reason)")
        case .success(let pid):
            _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
            let channel = PtyChannel(master: master, pid: pid)
            channel.startReading(into: output)
            return channel
        }
    }
}

/// A session's pty master and its command, the leader of the session's process group.
final class PtyChannel: SessionChannel {
    /// The master fd; -1 once closed (by the reader, under the lock, so no write ever reaches a reused fd).
    private let master: Mutex<Int32>
    let pid: pid_t
    private let ended = Atomic<Bool>(false)

    init(master: Int32, pid: pid_t) {
        self.master = Mutex(master)
        self.pid = pid
    }

    /// Reads until every holder of the pty's slave is gone (EIO), then reaps the command and finishes `output`.
    func startReading(into output: SessionOutput) {
        let fd = master.withLock { $0 }
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 16 << 10)
            while true {
                var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&entry, 1, 200)
                if ready < 0 && errno != EINTR { break }
                if ready <= 0 {
                    // A command killed with a grandchild still holding the slave: stop once the group is gone.
                    if ended.load(ordering: .relaxed), molecule_has_exited(pid) == 1 { break }
                    continue
                }
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    buffer.withUnsafeBytes { output.append(UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
                } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                    break
                }
            }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            master.withLock { descriptor in
                close(descriptor)
                descriptor = -1
            }
            output.finish(exitCode: shellExitCode(status))
        }
    }

    func write(_ bytes: [UInt8]) throws(ProviderError) -> Int {
        try master.withLock { fd throws(ProviderError) -> Int in
            guard fd >= 0 else { throw .conflict("the session has ended") }
            var written = 0
            let deadline = MonotonicClock.deadline(afterMilliseconds: 1000)
            while written < bytes.count, MonotonicClock.now() < deadline {
                let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
                if count > 0 {
                    written += count
                } else if errno == EAGAIN || errno == EINTR {
                    var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&entry, 1, 50)
                } else {
                    if written == 0 { throw .conflict("the session's terminal is closed: \(String(cString: strerror(errno)))") }
                    break
                }
            }
            return written
        }
    }

    func resize(_ size: PtySize) throws(ProviderError) {
        try master.withLock { fd throws(ProviderError) in
            guard fd >= 0 else { throw .conflict("the session has ended") }
            let result = molecule_pty_resize(fd, UInt16(size.cols), UInt16(size.rows))
            if result != 0 { throw .internal("cannot resize the session's terminal: \(String(cString: strerror(-result)))") }
        }
    }

    /// SIGHUP, then SIGKILL, to the session's process group (an interactive shell's jobs have groups of their own:
    /// the hang-up reaches them when the reader closes the master).
    func terminate() {
        guard !ended.exchange(true, ordering: .relaxed) else { return }
        kill(-pid, SIGHUP)
        kill(-pid, SIGKILL)
    }
}
