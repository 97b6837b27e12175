import Foundation
import Logging
import NIOPosix
import Synchronization

/// A pool of libpq connections served by dedicated worker threads.
///
/// ``run(_:)`` executes its closure on one of the pool's threads with one connection checked out — never on Swift's
/// cooperative pool — so the blocking libpq calls inside it cannot stall async work. With as many threads as
/// connections, a running closure always has its connection; callers beyond that wait in the thread pool's queue.
public final class PostgresPool: Sendable {
    public let conninfo: String
    public let size: Int
    private let threads: NIOThreadPool
    private let idle = Mutex<[UnsafeTransfer<PostgresConnection>]>([])
    private let logger: Logger

    public init(conninfo: String, size: Int = 8, logger: Logger = Logger(label: "molecule.postgres")) {
        self.conninfo = conninfo
        self.size = max(1, size)
        self.logger = logger
        self.threads = NIOThreadPool(numberOfThreads: self.size)
        threads.start()
    }

    /// Runs `body` with a connection, on a pool thread. A connection that broke is discarded, not returned.
    @discardableResult
    public func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await threads.runIfActive {
            let connection = try self.checkout()
            do {
                let value = try body(connection)
                self.checkin(connection)
                return value
            } catch let error as PostgresError where error.isUnavailable {
                throw error  // dropped: the next checkout reconnects
            } catch {
                self.checkin(connection)
                throw error
            }
        }
    }

    /// Runs `body` inside a transaction.
    @discardableResult
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await run { connection in try connection.transaction(body) }
    }

    private func checkout() throws(PostgresError) -> PostgresConnection {
        if let connection = idle.withLock({ $0.popLast() })?.value {
            try connection.ensureConnected()
            return connection
        }
        return try PostgresConnection(conninfo: conninfo)
    }

    private func checkin(_ connection: PostgresConnection) {
        idle.withLock { $0.append(UnsafeTransfer(connection)) }
    }

    /// Stops the worker threads (after in-flight work).
    public func shutdown() async {
        try? await threads.shutdownGracefully()
        idle.withLock { $0.removeAll() }
    }
}

/// Moves a non-Sendable value between threads when the code guarantees exclusive use (the pool's checkout).
struct UnsafeTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
