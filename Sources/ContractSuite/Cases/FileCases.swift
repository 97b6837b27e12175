import Foundation
import ProviderHost
import ProviderWire

/// The files verbs and templates (part of `core`).
extension ContractCatalogue {
    static let files: [ContractCase] = [
        ContractCase(
            "files.round-trip", "binary content and a 1 MiB file round-trip; list shows them; delete removes",
            profile: .core, exercises: [.writeFile, .readFile, .listFiles, .deleteFile],
            requires: [.provision, .writeFile, .readFile, .listFiles, .deleteFile]
        ) { run in
            let id = run.newWorkspaceId("files")
            try await run.provision(id)
            let binary = (0..<512).map { UInt8($0 % 256) }
            var generator = SystemRandomNumberGenerator()
            let large = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            for (path, content) in [("contract/binary.bin", binary), ("contract/deep/large.bin", large)] {
                let written: FileWriteResponse = try await run.ok(
                    .writeFile, WriteFileRequest(workspaceId: id, path: path, contentBase64: Data(content).base64EncodedString())
                )
                try run.expect(written.size == Int64(content.count), "write_file \(path) answered size \(written.size)")
                let read: FileContent = try await run.ok(.readFile, FilePathRequest(workspaceId: id, path: path))
                try run.expect(Data(base64Encoded: read.contentBase64) == Data(content), "read_file \(path) returned different bytes")
            }
            let listing: ListFilesResponse = try await run.ok(.listFiles, ListFilesRequest(workspaceId: id, path: "contract", depth: 3))
            let sizes = Dictionary(listing.files.map { ($0.path, $0.size) }, uniquingKeysWith: { a, _ in a })
            try run.expect(sizes["contract/binary.bin"] == 512, "list_files lacks contract/binary.bin with size 512: \(listing.files)")
            try run.expect(sizes["contract/deep/large.bin"] == 1 << 20, "list_files lacks contract/deep/large.bin with size 1 MiB")
            let _: FileWriteResponse = try await run.ok(.deleteFile, FilePathRequest(workspaceId: id, path: "contract/binary.bin"))
            try await run.expectError(.notFound, .readFile, FilePathRequest(workspaceId: id, path: "contract/binary.bin"), "read after delete")
            try await run.expectError(.notFound, .deleteFile, FilePathRequest(workspaceId: id, path: "contract/missing"), "delete of a missing file")
            _ = try await run.stop(id)
        },
        ContractCase(
            "files.path-traversal", "../ and absolute paths are INVALID_ARGUMENT on every files verb",
            profile: .core, exercises: [.readFile, .writeFile, .listFiles, .deleteFile],
            requires: [.provision, .readFile, .writeFile, .listFiles, .deleteFile]
        ) { run in
            let id = run.newWorkspaceId("traverse")
            try await run.provision(id)
            for path in ["../escape", "/etc/passwd", "a/../../escape", "plugins/../../x"] {
                try await run.expectError(.invalidArgument, .readFile, FilePathRequest(workspaceId: id, path: path), "read_file \(path)")
                try await run.expectError(
                    .invalidArgument, .writeFile, WriteFileRequest(workspaceId: id, path: path, contentBase64: "eA=="), "write_file \(path)"
                )
                try await run.expectError(.invalidArgument, .deleteFile, FilePathRequest(workspaceId: id, path: path), "delete_file \(path)")
                try await run.expectError(.invalidArgument, .listFiles, ListFilesRequest(workspaceId: id, path: path), "list_files \(path)")
            }
            _ = try await run.stop(id)
        },
        ContractCase(
            "files.kinds", "directories and files answer one way on every provider: reading or writing a directory, or a path under a file",
            profile: .core, exercises: [.readFile, .writeFile, .listFiles, .deleteFile],
            requires: [.provision, .readFile, .writeFile, .listFiles, .deleteFile]
        ) { run in
            let id = run.newWorkspaceId("kinds")
            try await run.provision(id)
            func write(_ path: String, _ text: String) async throws {
                let _: FileWriteResponse = try await run.ok(
                    .writeFile, WriteFileRequest(workspaceId: id, path: path, contentBase64: Data(text.utf8).base64EncodedString()))
            }
            try await write("contract/kinds/note.txt", "note\n")
            try await write("contract/kinds/sub/deep.txt", "deep\n")
            let eA = Data("x".utf8).base64EncodedString()
            try await run.expectError(
                .invalidArgument, .readFile, FilePathRequest(workspaceId: id, path: "contract/kinds"), "read_file of a directory")
            try await run.expectError(
                .invalidArgument, .writeFile, WriteFileRequest(workspaceId: id, path: "contract/kinds", contentBase64: eA),
                "write_file over a directory")
            try await run.expectError(
                .invalidArgument, .writeFile, WriteFileRequest(workspaceId: id, path: "contract/kinds/note.txt/child", contentBase64: eA),
                "write_file under a file")
            try await run.expectError(
                .notFound, .readFile, FilePathRequest(workspaceId: id, path: "contract/kinds/note.txt/child"), "read_file under a file")
            try await run.expectError(
                .notFound, .deleteFile, FilePathRequest(workspaceId: id, path: "contract/kinds/note.txt/child"), "delete_file under a file")
            try await run.expectError(
                .invalidArgument, .listFiles, ListFilesRequest(workspaceId: id, path: "contract/kinds/note.txt"), "list_files of a file")
            try await run.expectError(
                .notFound, .listFiles, ListFilesRequest(workspaceId: id, path: "contract/kinds/missing"), "list_files of a missing directory")
            let listing: ListFilesResponse = try await run.ok(.listFiles, ListFilesRequest(workspaceId: id, path: "contract/kinds", depth: 2))
            let entries = Dictionary(listing.files.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
            try run.expect(
                entries["contract/kinds/sub"] == FileEntry(path: "contract/kinds/sub", size: 0, dir: true),
                "list_files shows the directory contract/kinds/sub as \(entries["contract/kinds/sub"].map { "\($0)" } ?? "nothing") (directories are size 0)"
            )
            try run.expect(entries["contract/kinds/note.txt"]?.size == 5, "list_files shows note.txt as \(listing.files)")
            try run.expect(entries["contract/kinds/sub/deep.txt"]?.dir == false, "list_files at depth 2 lacks sub/deep.txt: \(listing.files)")
            try await write("contract/kinds/note.txt", "changed\n")
            let read: FileContent = try await run.ok(.readFile, FilePathRequest(workspaceId: id, path: "contract/kinds/note.txt"))
            try run.expect(Data(base64Encoded: read.contentBase64) == Data("changed\n".utf8), "write_file did not replace the file")
            let deleted: FileWriteResponse = try await run.ok(.deleteFile, FilePathRequest(workspaceId: id, path: "contract/kinds/sub"))
            try run.expect(deleted.size == 0, "delete_file of a directory answered size \(deleted.size), expected 0")
            try await run.expectError(
                .notFound, .readFile, FilePathRequest(workspaceId: id, path: "contract/kinds/sub/deep.txt"), "read_file in a deleted directory")
            _ = try await run.stop(id)
        },
        ContractCase(
            "files.links", "no files verb follows a symbolic link, out of the root or inside it; a listing shows links and never descends",
            profile: .core, exercises: [.readFile, .writeFile, .listFiles, .deleteFile],
            requires: [.provision, .readFile, .writeFile, .listFiles, .deleteFile]
        ) { run in
            let id = run.newWorkspaceId("links")
            try await LinkFixture.provision(run, id, pluginsLink: false)
            let dir = LinkFixture.directory
            let eA = Data("x".utf8).base64EncodedString()
            for path in ["\(dir)/file-link", "\(dir)/inside/note.txt", "\(dir)/up/contract-outside.txt"] {
                try await run.expectError(.invalidArgument, .readFile, FilePathRequest(workspaceId: id, path: path), "read_file \(path)")
            }
            for path in ["\(dir)/file-link", "\(dir)/inside/new.txt", "\(dir)/up/contract-escape.txt", "\(dir)/up/new/deep.txt"] {
                try await run.expectError(
                    .invalidArgument, .writeFile, WriteFileRequest(workspaceId: id, path: path, contentBase64: eA), "write_file \(path)")
            }
            for path in ["\(dir)/file-link", "\(dir)/inside/note.txt", "\(dir)/up", "\(dir)/inside"] {
                try await run.expectError(.invalidArgument, .deleteFile, FilePathRequest(workspaceId: id, path: path), "delete_file \(path)")
            }
            for path in ["\(dir)/inside", "\(dir)/up", "\(dir)/file-link"] {
                try await run.expectError(.invalidArgument, .listFiles, ListFilesRequest(workspaceId: id, path: path), "list_files \(path)")
            }
            // Nothing went through a link: the file the links point at is intact.
            let note: FileContent = try await run.ok(.readFile, FilePathRequest(workspaceId: id, path: "\(dir)/data/note.txt"))
            try run.expect(Data(base64Encoded: note.contentBase64) == Data(LinkFixture.note), "\(dir)/data/note.txt changed through a link")
            let listing: ListFilesResponse = try await run.ok(.listFiles, ListFilesRequest(workspaceId: id, path: dir, depth: 3))
            let entries = Dictionary(listing.files.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
            for link in LinkFixture.links {
                let path = "\(dir)/\(link.name)"
                try run.expect(
                    entries[path] == FileEntry(path: path, size: 0, dir: false),
                    "list_files shows the link \(path) as \(entries[path].map { "\($0)" } ?? "nothing"), expected dir=false size=0")
                try run.expect(
                    !listing.files.contains { $0.path.hasPrefix(path + "/") }, "list_files descended into the link \(path): \(listing.files)")
            }
            try run.expect(entries["\(dir)/data/note.txt"]?.size == Int64(LinkFixture.note.count), "list_files lacks data/note.txt: \(listing.files)")
            _ = try await run.stop(id)
        },
        ContractCase(
            "provision.seed-archive", "a template's files (seed_archive) are in the files root once provision answers, and the answer says seeded",
            profile: .core, exercises: [.provision, .readFile], requires: [.provision, .readFile],
            features: [.seedArchive]
        ) { run in
            let id = run.newWorkspaceId("seed")
            let files: [(path: String, content: [UInt8])] = [
                ("config.yaml", Array("name: seeded\n".utf8)), ("prompts/system.md", Array("be brief\n".utf8)),
            ]
            var entries = [TarArchive.Entry(path: try RelativePath("prompts"), kind: .directory, mode: 0o755)]
            for file in files { entries.append(.init(path: try RelativePath(file.path), kind: .file, mode: 0o644, contents: file.content)) }
            var request = run.provisionRequest(id)
            request.seedArchive = Data(TarArchive(entries: entries).serialized()).base64EncodedString()
            run.track(id)  // the final clean-up removes its storage too
            let started: ProvisionResponse = try await run.ok(.provision, request)
            guard started.seeded == true else {
                _ = try await run.stop(id)
                throw ContractFailure("the manifest declares seed_archive, but provision answered without \"seeded\": true")
            }
            for file in files {
                let read: FileContent = try await run.ok(.readFile, FilePathRequest(workspaceId: id, path: file.path))
                try run.expect(
                    Data(base64Encoded: read.contentBase64) == Data(file.content), "answered seeded, but \(file.path) does not hold the seed's bytes")
            }
            _ = try await run.stop(id)
        },
        ContractCase(
            "files.list-root", "list_files of the root (path \"\") lists its entries one level deep",
            profile: .core, exercises: [.listFiles], requires: [.provision, .writeFile, .listFiles]
        ) { run in
            let id = run.newWorkspaceId("root")
            try await run.provision(id)
            try await FileTree.write(run, id, "contract-root.txt", Array("root\n".utf8))
            try await FileTree.write(run, id, "contract-rootdir/inner.txt", Array("inner\n".utf8))
            let listing: ListFilesResponse = try await run.ok(.listFiles, ListFilesRequest(workspaceId: id, path: ""))
            let entries = Dictionary(listing.files.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
            try run.expect(
                entries["contract-root.txt"] == FileEntry(path: "contract-root.txt", size: 5, dir: false),
                "the root listing lacks contract-root.txt: \(listing.files)")
            try run.expect(entries["contract-rootdir"]?.dir == true, "the root listing lacks the directory contract-rootdir: \(listing.files)")
            try run.expect(entries["contract-rootdir/inner.txt"] == nil, "the root listing at depth 1 shows contract-rootdir/inner.txt")
            _ = try await run.stop(id)
        },
        ContractCase(
            "files.list-depth",
            "list_files answers exactly `depth` levels (1 to 5), with paths relative to the files root; a depth outside 1…5 is INVALID_ARGUMENT",
            profile: .core, exercises: [.listFiles], requires: [.provision, .writeFile, .listFiles]
        ) { run in
            let id = run.newWorkspaceId("depth")
            try await run.provision(id)
            try await FileTree.write(run, id, "contract/depth/a/b/c/d.txt", Array("deep\n".utf8))
            let levels = ["contract/depth/a", "contract/depth/a/b", "contract/depth/a/b/c", "contract/depth/a/b/c/d.txt"]
            for depth in 1...4 {
                let listing: ListFilesResponse = try await run.ok(.listFiles, ListFilesRequest(workspaceId: id, path: "contract/depth", depth: depth))
                let paths = listing.files.map(\.path).sorted()
                try run.expect(
                    paths == Array(levels.prefix(depth)), "list_files at depth \(depth) answered \(paths), expected \(Array(levels.prefix(depth)))")
            }
            for depth in [0, 6] {
                try await run.expectError(
                    .invalidArgument, .listFiles, ListFilesRequest(workspaceId: id, path: "contract/depth", depth: depth),
                    "list_files at depth \(depth)")
            }
            _ = try await run.stop(id)
        },
        ContractCase(
            "files.mode", "write_file's mode sets the permission bits (default 0644); read_file answers them",
            profile: .core, exercises: [.writeFile, .readFile], requires: [.provision, .writeFile, .readFile]
        ) { run in
            let id = run.newWorkspaceId("mode")
            try await run.provision(id)
            for (path, mode) in [("contract/mode/default.txt", nil), ("contract/mode/secret.pem", 0o600), ("contract/mode/tool.sh", 0o755)]
                as [(String, Int?)]
            {
                try await FileTree.write(run, id, path, Array("mode\n".utf8), mode: mode)
                let read: FileContent = try await run.ok(.readFile, FilePathRequest(workspaceId: id, path: path))
                let expected = mode ?? 0o644
                try run.expect(
                    read.mode == expected,
                    "read_file of \(path) answered mode \(read.mode.map { String($0, radix: 8) } ?? "none"), expected \(String(expected, radix: 8))")
            }
            _ = try await run.stop(id)
        },
    ]
}
