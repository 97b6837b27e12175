import Crypto
import Foundation
import ProviderHost
import ProviderWire

/// A tree of files written into a workspace and checked again later — by content checksum, size, mode and the
/// listing — for the cases that must see files survive (pause/resume, snapshot/restore cycles).
struct FileTree: Sendable {
    struct File: Sendable {
        var path: String
        var content: [UInt8]
        var mode: Int
    }

    /// Where the tree lives in the files root.
    static let root = "durable"

    var files: [File]
    /// Directories that must be listed (every parent of a file, and the empty ones).
    var directories: [String]

    /// Nested directories, three modes, an empty file, unicode names and a file of `largeBytes` random bytes.
    static func make(largeBytes: Int) -> FileTree {
        var generator = SystemRandomNumberGenerator()
        let large = (0..<largeBytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let files = [
            File(path: "\(root)/readme.md", content: Array("# durable\n".utf8), mode: 0o644),
            File(path: "\(root)/bin/tool.sh", content: Array("#!/bin/sh\necho tool\n".utf8), mode: 0o755),
            File(path: "\(root)/secrets/key.pem", content: Array("-----BEGIN KEY-----\n".utf8), mode: 0o600),
            File(path: "\(root)/ünïcødé/日本語 ファイル.txt", content: Array("こんにちは\n".utf8), mode: 0o644),
            File(path: "\(root)/nested/a/b/c/deep.txt", content: Array("deep\n".utf8), mode: 0o640),
            File(path: "\(root)/empty.txt", content: [], mode: 0o644),
            File(path: "\(root)/big.bin", content: large, mode: 0o644),
        ]
        var directories = Set<String>()
        for file in files {
            var parts = file.path.split(separator: "/").dropLast().map(String.init)
            while parts.count > 1 {
                directories.insert(parts.joined(separator: "/"))
                parts.removeLast()
            }
        }
        return FileTree(files: files, directories: directories.sorted())
    }

    /// Writes every file (parents are created by write_file).
    func write(_ run: ContractRun, _ workspaceId: String) async throws {
        for file in files { try await Self.write(run, workspaceId, file.path, file.content, mode: file.mode) }
    }

    /// Reads everything back: the listing must hold exactly the tree, and every file its bytes and mode.
    func check(_ run: ContractRun, _ workspaceId: String, _ when: String) async throws {
        let listing: ListFilesResponse = try await run.ok(.listFiles, ListFilesRequest(workspaceId: workspaceId, path: Self.root, depth: 5))
        var expected = Dictionary(uniqueKeysWithValues: files.map { ($0.path, FileEntry(path: $0.path, size: Int64($0.content.count), dir: false)) })
        for directory in directories where directory != Self.root { expected[directory] = FileEntry(path: directory, size: 0, dir: true) }
        let listed = Dictionary(listing.files.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        let missing = expected.keys.filter { listed[$0] != expected[$0] }.sorted()
        let extra = listed.keys.filter { expected[$0] == nil }.sorted()
        try run.expect(
            missing.isEmpty && extra.isEmpty,
            "\(when): the listing differs — missing or changed: \(missing.map { "\($0) (now \(listed[$0].map { "\($0.size) bytes, dir \($0.dir)" } ?? "absent"))" }), unexpected: \(extra)"
        )
        for file in files {
            let read: FileContent = try await run.ok(.readFile, FilePathRequest(workspaceId: workspaceId, path: file.path))
            guard let bytes = Data(base64Encoded: read.contentBase64) else {
                throw ContractFailure("\(when): \(file.path) came back as invalid base64")
            }
            try run.expect(
                SHA256.hash(data: bytes) == SHA256.hash(data: file.content),
                "\(when): \(file.path) has other content (\(bytes.count) bytes, expected \(file.content.count))")
            try run.expect(
                read.mode == file.mode,
                "\(when): \(file.path) has mode \(read.mode.map { String($0, radix: 8) } ?? "none"), expected \(String(file.mode, radix: 8))")
        }
    }

    /// One write_file that must succeed and answer the size written.
    static func write(_ run: ContractRun, _ workspaceId: String, _ path: String, _ content: [UInt8], mode: Int? = nil) async throws {
        var request = WriteFileRequest(workspaceId: workspaceId, path: path, contentBase64: Data(content).base64EncodedString())
        request.mode = mode
        let written: FileWriteResponse = try await run.ok(.writeFile, request)
        try run.expect(written.size == Int64(content.count), "write_file \(path) answered size \(written.size), expected \(content.count)")
    }
}
