import Foundation
import ProviderKit
import ProviderWire

/// One workspace's directory: its record, its console log and its files root.
struct WorkspaceDirectory: Sendable {
    let id: String
    let root: URL
    var recordFile: URL { root.appendingPathComponent("workspace.json") }
    var consoleLog: URL { root.appendingPathComponent("console.log") }
    /// The files root the files and plugin verbs are relative to (`/configs` inside a real workspace).
    var files: URL { root.appendingPathComponent("files", isDirectory: true) }
    var plugins: URL { files.appendingPathComponent("plugins", isDirectory: true) }
    /// The files root, with ProviderKit's ``FilePolicy`` applied to every path.
    var filesRoot: LocalFilesRoot { LocalFilesRoot(path: files.path) }

    /// Creates the directories (idempotent).
    func create() throws {
        try FileManager.default.createDirectory(at: plugins, withIntermediateDirectories: true)
    }

    /// The record, or `nil` for a workspace the provider never created (or whose storage was removed).
    func readRecord() -> WorkspaceRecord? {
        guard let data = try? Data(contentsOf: recordFile) else { return nil }
        return try? JSONDecoder().decode(WorkspaceRecord.self, from: data)
    }

    /// Replaces the record atomically (write to a temporary file, then rename).
    func write(_ record: WorkspaceRecord) throws {
        try JSONEncoder().encode(record).write(to: recordFile, options: .atomic)
    }

    /// The record, or NOT_FOUND.
    func requireRecord() throws(ProviderError) -> WorkspaceRecord {
        guard let record = readRecord() else { throw .notFound("workspace \(id) not found (no instance or storage)") }
        return record
    }

    /// Appends one timestamped line to the console log.
    func log(_ line: String) throws {
        let stamped = Data("\(ISO8601DateFormatter().string(from: Date())) \(line)\n".utf8)
        guard let handle = try? FileHandle(forWritingTo: consoleLog) else {
            try stamped.write(to: consoleLog)
            return
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: stamped)
    }

    /// Stores the workspace's token where an agent reads it (``AgentEnvironment/tokenFileName``, mode 0600).
    func writeToken(_ token: String) throws {
        let url = files.appendingPathComponent(AgentEnvironment.tokenFileName)
        try Data(token.utf8).write(to: url, options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
    }
}
