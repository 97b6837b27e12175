import Foundation
import Logging

/// A private PostgreSQL for the embedded default: `initdb` + `pg_ctl` from the system's binaries, a data directory
/// under the Host's state directory, listening only on a unix socket inside it. Stopped when the Host exits.
public struct EmbeddedPostgres: Sendable {
    public let dataDirectory: String
    let binDirectory: String
    let logger: Logger

    /// Why the embedded server could not be started, in one line.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// The libpq conninfo to reach it.
    public var conninfo: String { "host=\(dataDirectory) port=5432 user=postgres dbname=postgres" }

    public init(stateDirectory: String, logger: Logger) throws {
        self.dataDirectory = stateDirectory + "/postgres"
        self.logger = logger
        let candidates = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql"))?.sorted(by: >) ?? []
        guard let version = candidates.first(where: { FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\($0)/bin/pg_ctl") })
        else {
            throw Failure(
                "no PostgreSQL server found under /usr/lib/postgresql (install the postgresql package, or set DATABASE_URL)")
        }
        self.binDirectory = "/usr/lib/postgresql/\(version)/bin"
    }

    /// initdb (once) and start; returns when the server accepts connections.
    public func start() throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let asRoot = geteuid() == 0
        if asRoot { _ = CommandRunner.run(["chown", "-R", "postgres:postgres", dataDirectory]) }
        if !FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION") {
            logger.info("initialising the embedded PostgreSQL", metadata: ["data": "\(dataDirectory)"])
            let result = run(["\(binDirectory)/initdb", "-D", dataDirectory, "-A", "trust", "-U", "postgres", "--no-sync"], asRoot: asRoot)
            guard result.status == 0 else { throw Failure("initdb failed: \(result.output)") }
        }
        if run(["\(binDirectory)/pg_ctl", "-D", dataDirectory, "status"], asRoot: asRoot).status == 0 { return }
        let options = "-k \(dataDirectory) -c listen_addresses='' -p 5432"
        let result = run(
            ["\(binDirectory)/pg_ctl", "-D", dataDirectory, "-l", dataDirectory + "/server.log", "-o", options, "-w", "-t", "60", "start"],
            asRoot: asRoot)
        guard result.status == 0 else {
            throw Failure("the embedded PostgreSQL did not start: \(result.output) (see \(dataDirectory)/server.log)")
        }
        logger.info("embedded PostgreSQL started", metadata: ["socket": "\(dataDirectory)"])
    }

    /// Stops the server (fast shutdown).
    public func stop() {
        _ = run(["\(binDirectory)/pg_ctl", "-D", dataDirectory, "-m", "fast", "-w", "stop"], asRoot: geteuid() == 0)
    }

    func run(_ arguments: [String], asRoot: Bool) -> (status: Int32, output: String) {
        // PostgreSQL refuses to run as root: run its tools as the postgres user.
        CommandRunner.run(asRoot ? ["runuser", "-u", "postgres", "--"] + arguments : arguments)
    }
}
