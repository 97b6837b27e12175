import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One end of the Host ↔ runner socket: whole frames in, whole frames out, each bounded by
/// ``ProviderBounds/maxFrameBytes``. Reads block the calling thread (a dedicated reader thread); writes are
/// serialised by a lock.
final class FrameSocket: Sendable {
    enum Failure: Error, CustomStringConvertible {
        case closed
        case oversized(Int)
        case unknownKind(UInt8)
        case io(Int32)

        var description: String {
            switch self {
            case .closed: "closed the connection"
            case .oversized(let size): "sent a frame of \(size) bytes, above the \(ProviderBounds.maxFrameBytes)-byte limit"
            case .unknownKind(let kind): "sent a frame of unknown kind \(kind)"
            case .io(let code): "connection failed: \(String(cString: strerror(code)))"
            }
        }
    }

    let descriptor: Int32
    private let writeLock = Mutex<Void>(())

    init(descriptor: Int32) { self.descriptor = descriptor }

    /// Blocks until a whole frame has arrived.
    func read() throws(Failure) -> (RunnerFrameKind, [UInt8]) {
        var header = [UInt8](repeating: 0, count: 5)
        try readExactly(&header, count: 5)
        let length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        guard length >= 1, length <= ProviderBounds.maxFrameBytes else { throw .oversized(length) }
        guard let kind = RunnerFrameKind(rawValue: header[4]) else { throw .unknownKind(header[4]) }
        var payload = [UInt8](repeating: 0, count: length - 1)
        try readExactly(&payload, count: length - 1)
        return (kind, payload)
    }

    private func readExactly(_ buffer: inout [UInt8], count: Int) throws(Failure) {
        var done = 0
        while done < count {
            let n = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress! + done, count - done, 0) }
            if n > 0 {
                done += n
                continue
            }
            if n == 0 { throw .closed }
            if errno == EINTR { continue }
            throw .io(errno)
        }
    }

    /// Sends a whole frame, blocking until it is written (never raising SIGPIPE).
    func write(_ frame: some Collection<UInt8>) throws(Failure) {
        let frame = Array(frame)
        let failure: Int32? = writeLock.withLock { _ in
            var done = 0
            while done < frame.count {
                let n = frame.withUnsafeBytes { send(descriptor, $0.baseAddress! + done, frame.count - done, Int32(MSG_NOSIGNAL)) }
                if n >= 0 {
                    done += n
                    continue
                }
                if errno == EINTR { continue }
                return errno
            }
            return nil
        }
        if let failure { throw .io(failure) }
    }

    /// Sends as much of `frame` as the socket takes without blocking; answers how many bytes went (-1 on an error
    /// other than a full buffer).
    func sendWithoutBlocking(_ frame: [UInt8]) -> Int {
        writeLock.withLock { _ in
            var done = 0
            while done < frame.count {
                let n = frame.withUnsafeBytes { send(descriptor, $0.baseAddress! + done, frame.count - done, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
                if n > 0 {
                    done += n
                    continue
                }
                if n < 0 && errno == EINTR { continue }
                if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return done }
                return done > 0 ? done : -1
            }
            return done
        }
    }

    /// Wakes a blocked reader and makes further writes fail, without releasing the descriptor.
    func shutdownBoth() { _ = Glibc.shutdown(descriptor, Int32(SHUT_RDWR)) }

    func close() { _ = Glibc.close(descriptor) }
}
