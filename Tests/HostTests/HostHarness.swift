import Foundation
import FoundationNetworking
import HostAPI
import HostDispatch
import HostStore
import Logging
import ProviderWire
import Synchronization

/// A real PostgreSQL for the tests: one embedded server per test process (reused across runs, under `.build/`),
/// and a fresh database per harness.
enum TestDatabase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let quiet: Logger = {
        var logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        logger.logLevel = .critical
        return logger
    }()

    private static let shared = Mutex<EmbeddedPostgres?>(nil)

    /// The shared server, started on first use.
    static func server() throws -> EmbeddedPostgres {
        try shared.withLock { server in
            if let server { return server }
            let started = try EmbeddedPostgres(stateDirectory: root.appendingPathComponent(".build/test-postgres").path, logger: quiet)
            try started.start()
            server = started
            return started
        }
    }

    /// A new, empty database on `server`, migrated; answers its conninfo.
    static func freshDatabase(on server: EmbeddedPostgres? = nil) async throws -> String {
        let server = try server ?? Self.server()
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let admin = PostgresPool(conninfo: server.conninfo, size: 1, logger: quiet)
        // CREATE DATABASE cannot take a parameter for the name; the name is generated here, never from input.
        _ = try await admin.run { connection in try connection.query("SELECT 1") }
        await admin.shutdown()
        let result = CommandRunner.run(["psql", server.conninfo, "-c", "CREATE DATABASE \(name)"])
        guard result.status == 0 else { throw HarnessError("createdb failed: \(result.output)") }
        let conninfo = server.conninfo(database: String(name))
        let pool = PostgresPool(conninfo: conninfo, size: 1, logger: quiet)
        try await Migrator(migrations: try Migrator.bundled(), logger: quiet).run(on: pool)
        await pool.shutdown()
        return conninfo
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A running Host on a free loopback port, with a fresh database and the given providers.
final class HostHarness: Sendable {
    let server: HostServer
    let pool: PostgresPool
    let baseURL: String
    let adminToken = "test-admin-" + UUID().uuidString
    let stateDirectory: URL
    private let task: Mutex<Task<Void, any Error>?> = Mutex(nil)

    static var productsDirectory: URL {
        var directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 where !FileManager.default.fileExists(atPath: directory.appendingPathComponent("libProviderProcess.so").path) {
            directory = directory.deletingLastPathComponent()
        }
        return directory
    }

    init(
        providers: [ProviderSpec]? = nil,
        conninfo: String? = nil,
        logger: Logger = TestDatabase.quiet,
        configure: (inout HostConfiguration) -> Void = { _ in }
    ) async throws {
        stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("molecule-host-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: stateDirectory, withIntermediateDirectories: true)
        let port = try Self.freePort()
        var configuration = HostConfiguration()
        configuration.port = port
        configuration.adminToken = adminToken
        configuration.environment = .production
        configuration.enableTestTokens = true
        configuration.stateDirectory = stateDirectory.path
        configuration.providers =
            providers ?? [
                ProviderSpec(
                    name: "process", library: Self.productsDirectory.appendingPathComponent("libProviderProcess.so").path,
                    // An idle command: these tests register agents themselves (the reference agent is tested on its own).
                    options: [
                        "state_dir": .string(stateDirectory.appendingPathComponent("process").path), "stop_grace_ms": 1000,
                        "command": ["/bin/sh", "-c", "while :; do sleep 1; done"],
                    ]
                )
            ]
        configure(&configuration)
        baseURL = "http://127.0.0.1:\(port)"
        let conninfo = if let conninfo { conninfo } else { try await TestDatabase.freshDatabase() }
        pool = PostgresPool(conninfo: conninfo, size: 4, logger: TestDatabase.quiet)
        server = await HostServer(configuration: configuration, pool: pool, logger: logger)
        let ready = AsyncStream<Void>.makeStream()
        let server = self.server
        task.withLock { $0 = Task { try await server.run { ready.continuation.yield() } } }
        for await _ in ready.stream { break }
    }

    /// Stops the server, waits for background work, stops every workspace it left running.
    func stop() async {
        task.withLock { $0?.cancel() }
        _ = try? await task.withLock { $0 }?.value
        await server.shutdown()
        await pool.shutdown()
        Self.killWorkloads(under: stateDirectory.appendingPathComponent("process"))
        try? FileManager.default.removeItem(at: stateDirectory)
    }

    /// Leaves nothing running: every workload the Process provider started under `processState` — its cgroup's
    /// members, or its supervisor's process group — is killed and its cgroup removed (scripts/stop-workloads, which
    /// the test scripts use too).
    static func killWorkloads(under processState: URL) {
        _ = CommandRunner.run([TestDatabase.root.appendingPathComponent("scripts/stop-workloads").path, processState.path])
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw HarnessError("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    // MARK: HTTP

    struct Reply: Sendable {
        let status: Int
        let body: Data
        var json: JSONValue? { try? WireCoding.decode(JSONValue.self, from: [UInt8](body)) }
        subscript(key: String) -> JSONValue? { json?[key] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    enum Auth {
        case admin
        case none
        case token(String)
    }

    func request(_ method: String, _ path: String, auth: Auth = .admin, json: JSONValue? = nil, rawBody: Data? = nil) async throws -> Reply {
        var request = URLRequest(url: URL(string: baseURL + path)!)
        request.httpMethod = method
        request.timeoutInterval = 30
        switch auth {
        case .admin: request.setValue("Bearer \(adminToken)", forHTTPHeaderField: "Authorization")
        case .token(let token): request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        case .none: break
        }
        if let json {
            request.httpBody = Data(try WireCoding.encode(json))
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if let rawBody {
            request.httpBody = rawBody
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return Reply(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data)
    }

    /// Polls until the provider's instance is recorded (provisioning finished), bounded.
    func waitForInstance(_ id: String, timeout: Duration = .seconds(20)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await request("GET", "/workspaces/\(id)")["instance_ref"]?.stringValue != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("workspace \(id) never recorded an instance")
    }

    /// Polls GET /workspaces/:id until its status is one of `statuses` (bounded).
    @discardableResult
    func waitForStatus(_ id: String, _ statuses: Set<String>, timeout: Duration = .seconds(20)) async throws -> Reply {
        let deadline = ContinuousClock.now + timeout
        var last: Reply
        repeat {
            last = try await request("GET", "/workspaces/\(id)")
            if let status = last["status"]?.stringValue, statuses.contains(status) { return last }
            try await Task.sleep(for: .milliseconds(100))
        } while ContinuousClock.now < deadline
        let log = (try? await request("GET", "/workspaces/\(id)/boot-log"))?["content"]?.stringValue ?? "?"
        let events = (try? await request("GET", "/events/\(id)"))?.text ?? "?"
        throw HarnessError(
            "boot log: \(log.suffix(600)) events: \(events.suffix(800)) — workspace \(id) stayed \(last["status"]?.stringValue ?? "?") (\(last["last_sample_error"]?.stringValue ?? "")), wanted \(statuses.sorted())"
        )
    }
}

/// Captures log lines (message + metadata) so a test can assert on what the Host logged.
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    var all: [String] { lock.withLock { lines } }

    func logger() -> Logger {
        Logger(label: "captured") { _ in Handler(log: self) }
    }

    struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
            let text = "\(event.level) \(event.message) " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            log.lock.withLock { log.lines.append(text) }
        }
    }
}
