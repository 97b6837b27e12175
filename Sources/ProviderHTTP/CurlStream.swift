import CCurl
import Foundation
import ProviderKit
import ProviderWire
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A raw, two-way byte stream to an HTTP peer, connected by libcurl (`CURLOPT_CONNECT_ONLY`, over a unix socket or
/// TCP) and upgraded by one request the caller writes: the Docker Engine's hijacked `exec/start` and `attach`.
///
/// After ``open(_:request:backend:context:)`` the stream is past the response's headers; ``read(into:timeoutMs:)``
/// and ``write(_:timeoutMs:)`` move bytes on the connection's socket and may run on two threads at once (one reader,
/// one writer). ``close()`` ends it; the easy handle is released then.
public final class CurlStream: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer
    /// The connection's socket; valid until ``close()``.
    public let socket: Int32
    /// The response's status (101 for an upgrade) and the bytes that came after its headers.
    public private(set) var status: Int
    private var pending: [UInt8]
    private let closed = Atomic<Bool>(false)
    private let lock = NSLock()

    private init(handle: UnsafeMutableRawPointer, socket: Int32, status: Int, pending: [UInt8]) {
        self.handle = handle
        self.socket = socket
        self.status = status
        self.pending = pending
    }

    deinit { close() }

    /// Connects to `url`'s peer (through `unixSocket` when given), writes `request` (a whole HTTP/1.1 request, the
    /// caller's bytes) and reads the response's headers (at most 16 KiB, within the call's deadline).
    public static func open(
        url: String, unixSocket: String?, request: [UInt8], backend: String, context: CallContext, timeoutMs: Int = 10_000
    ) throws(ProviderError) -> CurlStream {
        try context.checkDeadline("connecting to \(backend)")
        guard let handle = curl_easy_init() else { throw .internal("curl_easy_init failed") }
        if let unixSocket { ccurl_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, unixSocket) }
        ccurl_setopt_string(handle, CURLOPT_URL, url)
        ccurl_setopt_long(handle, CURLOPT_CONNECT_ONLY, 1)
        ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        ccurl_setopt_string(handle, CURLOPT_NOPROXY, "*")
        ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, max(1, min(timeoutMs, context.remainingMilliseconds)))
        let code = curl_easy_perform(handle)
        var socket: curl_socket_t = -1
        guard code == CURLE_OK, ccurl_getinfo_socket(handle, &socket) == CURLE_OK, socket >= 0 else {
            curl_easy_cleanup(handle)
            throw .unavailable("\(backend) is unreachable: \(String(cString: curl_easy_strerror(code)))", nativeCode: Int32(code.rawValue))
        }
        let stream = CurlStream(handle: handle, socket: socket, status: 0, pending: [])
        let deadline = MonotonicClock.deadline(afterMilliseconds: min(timeoutMs, context.remainingMilliseconds))
        guard try stream.writeAll(request, deadline: deadline) else {
            stream.close()
            throw .unavailable("\(backend) did not take the request")
        }
        // The response's headers, up to the blank line.
        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while head.firstRange(of: Array("\r\n\r\n".utf8)) == nil {
            guard head.count < 16 << 10 else {
                stream.close()
                throw .internal("\(backend) answered headers longer than 16 KiB")
            }
            let left = Int((deadline > MonotonicClock.now() ? deadline - MonotonicClock.now() : 0) / 1_000_000)
            guard left > 0, let count = stream.readSocket(into: &buffer, timeoutMs: left), count > 0 || left > 0 else {
                stream.close()
                throw .unavailable("\(backend) closed the connection or sent no answer in time")
            }
            if count == 0 { continue }
            head += buffer.prefix(count)
        }
        let end = head.firstRange(of: Array("\r\n\r\n".utf8))!.upperBound
        let statusLine = String(decoding: head.prefix { $0 != 0x0d }, as: UTF8.self)
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
            stream.close()
            throw .internal("\(backend) answered something that is not HTTP: \(statusLine.prefix(80).debugDescription)")
        }
        stream.status = status
        stream.pending = Array(head[end...])
        return stream
    }

    /// The response body that followed non-upgrade headers (an error's JSON), read until the peer closes (bounded).
    public func remainingBody(limit: Int = 64 << 10, timeoutMs: Int = 2000) -> [UInt8] {
        var body: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = MonotonicClock.deadline(afterMilliseconds: timeoutMs)
        while body.count < limit, MonotonicClock.now() < deadline {
            guard let count = read(into: &buffer, timeoutMs: 100) else { break }
            body += buffer.prefix(count)
        }
        return body
    }

    /// Reads what is there, waiting up to `timeoutMs`: answers the count (0: nothing yet), nil at end of stream.
    public func read(into buffer: inout [UInt8], timeoutMs: Int) -> Int? {
        let leftover = lock.withLock { () -> [UInt8] in
            let taken = Array(pending.prefix(buffer.count))
            pending.removeFirst(taken.count)
            return taken
        }
        if !leftover.isEmpty {
            buffer.replaceSubrange(0..<leftover.count, with: leftover)
            return leftover.count
        }
        return readSocket(into: &buffer, timeoutMs: timeoutMs)
    }

    private func readSocket(into buffer: inout [UInt8], timeoutMs: Int) -> Int? {
        guard !closed.load(ordering: .relaxed) else { return nil }
        var entry = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let ready = poll(&entry, 1, Int32(clamping: timeoutMs))
        if ready == 0 || (ready < 0 && errno == EINTR) { return 0 }
        if ready < 0 { return nil }
        let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        if count > 0 { return count }
        if count < 0 && (errno == EAGAIN || errno == EINTR) { return 0 }
        return nil
    }

    /// Writes all of `bytes` before `deadline`; false if the peer is gone or the time ran out.
    @discardableResult
    public func writeAll(_ bytes: [UInt8], deadline: UInt64) throws(ProviderError) -> Bool {
        var written = 0
        while written < bytes.count {
            guard !closed.load(ordering: .relaxed), MonotonicClock.now() < deadline else { return false }
            var entry = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
            if poll(&entry, 1, 50) <= 0 { continue }
            let count = bytes.withUnsafeBytes { send(socket, $0.baseAddress! + written, $0.count - written, Int32(MSG_NOSIGNAL)) }
            if count > 0 {
                written += count
            } else if count < 0 && errno != EAGAIN && errno != EINTR {
                return false
            }
        }
        return true
    }

    /// Ends the writing half (the peer sees end-of-file on its input: `docker exec -i` closing stdin).
    public func closeWrite() { if !closed.load(ordering: .relaxed) { shutdown(socket, Int32(SHUT_WR)) } }

    /// Ends both halves without releasing the socket: a reader blocked on it wakes to end-of-stream and then closes
    /// it (closing under a reader could hand its fd number to another file).
    public func shutdownBoth() { if !closed.load(ordering: .relaxed) { shutdown(socket, Int32(SHUT_RDWR)) } }

    /// Closes the connection. Idempotent.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        curl_easy_cleanup(handle)
    }
}
