import Foundation
import HostDispatch
import ProviderWire
import Testing

/// A client that goes away cancels the provider verb it started: the provider's `is_cancelled` turns non-zero long
/// before the call's deadline, in a runner process and in process.
@Suite struct RequestCancellationTests {
    @Test(arguments: [ProviderSpec.Isolation.process, .inProcess])
    func aClientThatDisconnectsCancelsItsVerb(isolation: ProviderSpec.Isolation) async throws {
        let cancellable = ProviderSpec(
            name: "cancellable", library: try ProviderFixtures.hostile("cancellable"), timeoutSeconds: 60, isolation: isolation)
        let host = try await HostHarness(providers: [cancellable])
        defer { Task { await host.stop() } }
        let created = try await host.request("POST", "/workspaces", json: ["name": "quick-cancel", "provider": "cancellable"])
        let id = try #require(created["id"]?.stringValue, "\(created.text)")
        try await host.waitForInstance(id)
        let marker = "/tmp/molecule-cancelled-\(id)"
        defer { try? FileManager.default.removeItem(atPath: marker) }

        // diagnose waits (up to 10 s) until it is cancelled; the client sends it and hangs up after 300 ms.
        let port = try #require(URL(string: host.baseURL)?.port)
        let request = "GET /workspaces/\(id)/terminal/diagnose HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(host.adminToken)\r\n\r\n"
        let fd = try RawClient.connect(port: port)
        RawClient.send(fd, request)
        try await Task.sleep(for: .milliseconds(300))
        let hungUp = ContinuousClock.now
        close(fd)

        let deadline = ContinuousClock.now + .seconds(5)
        while !FileManager.default.fileExists(atPath: marker), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(FileManager.default.fileExists(atPath: marker), "the provider never saw the cancellation")
        #expect(ContinuousClock.now - hungUp < .seconds(3), "the provider saw the cancellation late")
        // The Host still serves, and a client that stays gets its answer.
        #expect(try await host.request("GET", "/health").status == 200)
        #expect(try await host.request("GET", "/workspaces/\(id)")["status"]?.stringValue == "provisioning")
    }
}

/// A bare TCP client on loopback, for hanging up mid-request.
enum RawClient {
    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw HarnessError("connect to 127.0.0.1:\(port) failed")
        }
        return fd
    }

    static func send(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// One request on its own connection (`Connection: close`): the status and the raw answer.
    static func status(_ host: HostHarness, _ method: String, _ path: String, token: String?, json: JSONValue?) throws -> (status: Int, text: String)
    {
        let body = try json.map { String(decoding: try WireCoding.encode($0), as: UTF8.self) } ?? ""
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n"
        if let token { request += "Authorization: Bearer \(token)\r\n" }
        if json != nil { request += "Content-Type: application/json\r\n" }
        let fd = try connect(port: URL(string: host.baseURL)?.port ?? 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        send(fd, request + "\r\n" + body)
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        for _ in 0..<1000 {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            answer += buffer[0..<count]
        }
        let text = String(decoding: answer, as: UTF8.self)
        let status = text.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
        return (status, text)
    }
}
