import Foundation
import HostStore
import Logging

/// A private PostgreSQL for the embedded default: `initdb` + `pg_ctl` from the system's binaries, a data directory
/// under the Host's state directory, listening only on a unix socket inside it. Stopped when the Host exits.
///
/// Nothing local is trusted: every connection authenticates with scram-sha-256 and a generated password kept in
/// `<state_dir>/postgres.password` (0600, the Host's user). A data directory from an older Host that trusted local
/// connections is switched over on start.
public struct EmbeddedPostgres: Sendable {
    public let dataDirectory: String
    /// The generated password's file.
    public let passwordFile: String
    let binDirectory: String
    let logger: Logger

    /// Why the embedded server could not be started, in one line.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// The libpq conninfo to reach it.
    public var conninfo: String { conninfo(database: "postgres") }

    /// The conninfo of `database` on this server (password included).
    public func conninfo(database: String) -> String {
        "host=\(dataDirectory) port=5432 user=postgres dbname=\(database) password=\(password)"
    }

    /// The password (generated on first start; 43 base64url characters, safe in a conninfo).
    public var password: String {
        ((try? String(contentsOfFile: passwordFile, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public init(stateDirectory: String, logger: Logger) throws {
        self.dataDirectory = stateDirectory + "/postgres"
        self.passwordFile = stateDirectory + "/postgres.password"
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
        if !FileManager.default.fileExists(atPath: passwordFile) {
            let created = FileManager.default.createFile(
                atPath: passwordFile, contents: Data(TokenStore.generate().utf8), attributes: [.posixPermissions: 0o600])
            guard created else { throw Failure("cannot write \(passwordFile)") }
        }
        if !FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION") {
            logger.info("initialising the embedded PostgreSQL", metadata: ["data": "\(dataDirectory)"])
            // initdb reads the password from a file its user can read; it lives only for the call.
            let handoff = dataDirectory + ".initdb-password"
            _ = FileManager.default.createFile(atPath: handoff, contents: Data(password.utf8), attributes: [.posixPermissions: 0o600])
            defer { unlink(handoff) }
            if asRoot { _ = CommandRunner.run(["chown", "postgres:postgres", handoff]) }
            let result = run(
                [
                    "\(binDirectory)/initdb", "-D", dataDirectory, "--auth-local=scram-sha-256", "--auth-host=scram-sha-256",
                    "--pwfile=\(handoff)", "-U", "postgres", "--no-sync",
                ], asRoot: asRoot)
            guard result.status == 0 else { throw Failure("initdb failed: \(result.output)") }
        }
        try requirePasswords(asRoot: asRoot)
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

    /// A data directory initialised by an older Host trusted every local connection: it gets this password and
    /// scram-sha-256 for every connection (a single-user start sets the password; the server is not running yet).
    func requirePasswords(asRoot: Bool) throws {
        let hba = dataDirectory + "/pg_hba.conf"
        // Readable by the Host either way: as root, or as the user that owns the data directory.
        let current = (try? String(contentsOfFile: hba, encoding: .utf8)) ?? ""
        let required =
            "# Molecule Host: every connection authenticates (scram-sha-256).\nlocal all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n"
        guard current != required else { return }
        if run(["\(binDirectory)/pg_ctl", "-D", dataDirectory, "status"], asRoot: asRoot).status == 0 {
            _ = run(["\(binDirectory)/pg_ctl", "-D", dataDirectory, "-m", "fast", "-w", "stop"], asRoot: asRoot)
        }
        let escaped = password.replacingOccurrences(of: "'", with: "''")
        let setPassword = CommandRunner.run(
            (asRoot ? ["runuser", "-u", "postgres", "--"] : []) + [
                "/bin/sh", "-c", "printf '%s\\n' \"$1\" | \"$2\" --single -D \"$3\" postgres >/dev/null", "set-password",
                "ALTER USER postgres PASSWORD '\(escaped)';", "\(binDirectory)/postgres", dataDirectory,
            ])
        guard setPassword.status == 0 else { throw Failure("could not set the embedded PostgreSQL's password: \(setPassword.output)") }
        // Written in place by the Host (root, or the data directory's owner), then given back to the server's user.
        guard FileManager.default.createFile(atPath: hba, contents: Data(required.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw Failure("cannot replace \(hba)")
        }
        if asRoot { _ = CommandRunner.run(["chown", "postgres:postgres", hba]) }
        logger.info("the embedded PostgreSQL now requires its password", metadata: ["password_file": "\(passwordFile)"])
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
