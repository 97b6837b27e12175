import Foundation
import Logging

/// Applies the ordered SQL files of `Resources/migrations` once each, recording them in `schema_migrations`.
///
/// Runs under a PostgreSQL advisory lock so replicas starting together apply each file once. A failing file stops
/// the run with its name and the server's error; what it did is rolled back.
public struct Migrator: Sendable {
    /// A migration that failed.
    public struct Failure: Error, CustomStringConvertible {
        public let file: String
        public let error: PostgresError
        public var description: String { "migration \(file) failed: \(error)" }
    }

    /// The migration files shipped with the Host, in order: (file name, SQL).
    public static func bundled() throws -> [(name: String, sql: String)] {
        guard let directory = Bundle.module.url(forResource: "migrations", withExtension: nil) else {
            throw PostgresError(.statement, "migrations are missing from the Host's resources")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }.sorted()
        return try names.map { ($0, try String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8)) }
    }

    let migrations: [(name: String, sql: String)]
    let logger: Logger

    public init(migrations: [(name: String, sql: String)], logger: Logger = Logger(label: "molecule.migrations")) {
        self.migrations = migrations
        self.logger = logger
    }

    /// Applies what is missing; returns the names applied now.
    @discardableResult
    public func run(on pool: PostgresPool) async throws -> [String] {
        let migrations = self.migrations
        let logger = self.logger
        return try await pool.run { connection in
            try connection.query("SELECT pg_advisory_lock(7215001)")
            defer { _ = try? connection.query("SELECT pg_advisory_unlock(7215001)") }
            try connection.query(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            let applied = Set(try connection.query("SELECT version FROM schema_migrations").all.compactMap { $0.string("version") })
            var now: [String] = []
            for migration in migrations where !applied.contains(migration.name) {
                do {
                    try connection.transaction { connection in
                        try connection.executeScript(migration.sql)
                        try connection.query("INSERT INTO schema_migrations (version) VALUES ($1)", [.string(migration.name)])
                    }
                } catch let error as PostgresError {
                    throw Failure(file: migration.name, error: error)
                }
                logger.info("migration applied", metadata: ["file": "\(migration.name)"])
                now.append(migration.name)
            }
            return now
        }
    }
}
