import CLibPQ
import Foundation

/// One libpq connection. Not thread-safe (libpq's rule: one PGconn, one thread at a time); the ``PostgresPool`` hands
/// it to exactly one worker thread at a time, never to the cooperative pool.
///
/// Statements are `StaticString`s with `$1…$n` placeholders and values passed separately (`PQexecParams`), so a value
/// can never be spliced into SQL text.
public final class PostgresConnection {
    private var handle: OpaquePointer?
    let conninfo: String

    init(conninfo: String) throws(PostgresError) {
        self.conninfo = conninfo
        try connect()
    }

    deinit { PQfinish(handle) }

    private func connect() throws(PostgresError) {
        PQfinish(handle)
        handle = PQconnectdb(conninfo)
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(handle))
            PQfinish(handle)
            handle = nil
            throw PostgresError(.unavailable, "cannot connect to PostgreSQL: \(message)")
        }
    }

    /// True when the connection is usable; a broken one reconnects once.
    func ensureConnected() throws(PostgresError) {
        if handle == nil || PQstatus(handle) != CONNECTION_OK { try connect() }
    }

    /// Runs one statement with parameters and returns its rows (empty for commands).
    @discardableResult
    public func query(_ sql: StaticString, _ parameters: [PostgresValue] = []) throws(PostgresError) -> PostgresRows {
        guard handle != nil else { throw PostgresError(.unavailable, "connection is closed") }
        let values: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.text.map { strdup($0) } ?? nil }
        defer { values.forEach { free($0) } }
        let result: OpaquePointer? = sql.withUTF8Buffer { buffer in
            let text = String(decoding: buffer, as: UTF8.self)
            return values.withUnsafeBufferPointer { pointers in
                pointers.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(1, values.count)) { parameterValues in
                    PQexecParams(handle, text, Int32(values.count), nil, values.isEmpty ? nil : parameterValues, nil, nil, 0)
                }
            }
        }
        return try Self.rows(from: result, connection: handle, sql: sql)
    }

    /// Runs plain SQL text without parameters — only for migration files, never for anything built from input.
    func executeScript(_ sql: String) throws(PostgresError) {
        let result = PQexec(handle, sql)
        _ = try Self.rows(from: result, connection: handle, sql: nil)
    }

    /// Runs `body` inside BEGIN … COMMIT, rolling back if it throws.
    public func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try query("BEGIN")
        do {
            let value = try body(self)
            try query("COMMIT")
            return value
        } catch {
            _ = try? query("ROLLBACK")
            throw error
        }
    }

    static func rows(from result: OpaquePointer?, connection: OpaquePointer?, sql: StaticString?) throws(PostgresError) -> PostgresRows {
        defer { PQclear(result) }
        guard let result else {
            throw PostgresError(.unavailable, "PostgreSQL connection failed: \(trimmed(PQerrorMessage(connection)))")
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PostgresRows(columns: [], rows: [], affected: Int(String(cString: PQcmdTuples(result))) ?? 0)
        case PGRES_TUPLES_OK:
            let columnCount = Int(PQnfields(result))
            let rowCount = Int(PQntuples(result))
            let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
            var rows: [[String?]] = []
            rows.reserveCapacity(rowCount)
            for row in 0..<rowCount {
                rows.append(
                    (0..<columnCount).map { column in
                        PQgetisnull(result, Int32(row), Int32(column)) == 1 ? nil : String(cString: PQgetvalue(result, Int32(row), Int32(column)))
                    }
                )
            }
            return PostgresRows(columns: columns, rows: rows, affected: rowCount)
        default:
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let message = trimmed(PQresultErrorMessage(result))
            let broken = PQstatus(connection) != CONNECTION_OK || state?.hasPrefix("08") == true || state?.hasPrefix("57P") == true
            throw PostgresError(broken ? .unavailable : .statement, message.isEmpty ? "statement failed" : message, sqlState: state)
        }
    }

    static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "unknown error" }
        return String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
