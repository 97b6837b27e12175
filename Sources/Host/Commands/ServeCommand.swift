import ArgumentParser
import Foundation
import HostAPI
import HostStore
import Logging
import NIOPosix

/// Where the Host's database comes from: `DATABASE_URL`/config, or an embedded server it starts and stops.
struct DatabaseSetup {
    let conninfo: String
    let embedded: EmbeddedPostgres?

    static func prepare(_ configuration: HostConfiguration, logger: Logger) async throws -> DatabaseSetup {
        if let url = configuration.databaseURL { return DatabaseSetup(conninfo: url, embedded: nil) }
        if ProcessInfo.processInfo.environment["PGHOST"] != nil || ProcessInfo.processInfo.environment["PGSERVICE"] != nil {
            return DatabaseSetup(conninfo: "", embedded: nil)  // libpq reads its own PG* variables
        }
        let embedded = try EmbeddedPostgres(stateDirectory: configuration.stateDirectory, logger: logger)
        try await NIOThreadPool.singleton.runIfActive { try embedded.start() }
        return DatabaseSetup(conninfo: embedded.conninfo, embedded: embedded)
    }
}

func loadConfiguration(_ path: String?) throws -> HostConfiguration {
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
    return try HostConfiguration.load(path: path, environment: ProcessInfo.processInfo.environment, executableDirectory: executable)
}

/// `molecule-host serve`: the HTTP API.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Host: HTTP API, provider dispatcher, registry.",
        discussion: """
            With no database configured (DATABASE_URL or PG* variables) it starts a private PostgreSQL under the state \
            directory; with no providers configured it loads the Process provider from next to this binary.
            """
    )

    @Option(name: .long, help: "Configuration file (YAML). Environment variables override it.")
    var config: String?

    func run() async throws {
        var logger = Logger(label: "molecule.host")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let configuration: HostConfiguration
        do { configuration = try loadConfiguration(config) } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        let database = try await DatabaseSetup.prepare(configuration, logger: logger)
        defer { database.embedded?.stop() }
        let pool = PostgresPool(conninfo: database.conninfo, size: configuration.databasePoolSize, logger: logger)
        do {
            try await Migrator(migrations: try Migrator.bundled(), logger: logger).run(on: pool)
        } catch {
            logger.critical("cannot start: \(error)")
            await pool.shutdown()
            throw ExitCode(1)
        }
        let server = await HostServer(configuration: configuration, pool: pool, logger: logger)
        let url = configuration.resolvedPlatformURL
        try await server.run {
            FileHandle.standardOutput.write(Data("molecule-host listening on \(url)  (try: curl \(url)/health)\n".utf8))
        }
        logger.info("shutting down: waiting for in-flight provisions")
        await server.shutdown()
        await pool.shutdown()
    }
}

/// `molecule-host migrate`: apply pending migrations and exit.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Apply pending database migrations and exit.")

    @Option(name: .long, help: "Configuration file (YAML).")
    var config: String?

    func run() async throws {
        let logger = Logger(label: "molecule.migrate")
        let configuration = try loadConfiguration(config)
        let database = try await DatabaseSetup.prepare(configuration, logger: logger)
        defer { database.embedded?.stop() }
        let pool = PostgresPool(conninfo: database.conninfo, size: 1, logger: logger)
        defer { Task { await pool.shutdown() } }
        do {
            let applied = try await Migrator(migrations: try Migrator.bundled(), logger: logger).run(on: pool)
            print(applied.isEmpty ? "migrations: up to date" : "migrations applied: \(applied.joined(separator: ", "))")
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}
