import Foundation

/// What the provider records about a snapshot (`snapshot.json`).
struct SnapshotRecord: Codable, Sendable {
    var snapshotId: String
    var workspaceId: String
    var owner: String
    var createdAtMs: Int64
}

/// One snapshot's directory: its record and the workspace's files root as a POSIX tar archive.
struct SnapshotDirectory: Sendable {
    let id: String
    let root: URL
    var recordFile: URL { root.appendingPathComponent("snapshot.json") }
    var archive: URL { root.appendingPathComponent("archive.tar") }

    /// The record, or `nil` for an unknown (or half-written) snapshot.
    func readRecord() -> SnapshotRecord? {
        guard let data = try? Data(contentsOf: recordFile) else { return nil }
        return try? JSONDecoder().decode(SnapshotRecord.self, from: data)
    }
}
