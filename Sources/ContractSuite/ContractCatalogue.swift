import Foundation
import ProviderHost
import ProviderWire

/// Every case of the suite. Cases are added, never silently changed: bump ``suiteVersion`` when one is.
public enum ContractCatalogue {
    /// The version recorded in every result; bump it whenever a case is added or its expectations change.
    public static let suiteVersion = "1.3.0"

    /// The cases in the order they run.
    public static let cases: [ContractCase] = [
        ContractCase("describe.identity", "describe answers the manifest's name and version", exercises: [.describe]) { run in
            let answer: DescribeResponse = try await run.ok(.describe, [String: String]())
            try run.expect(answer.name == run.identity.manifest.name, "describe name \(answer.name) != manifest name")
            try run.expect(answer.version == run.identity.manifest.version, "describe version \(answer.version) != manifest version")
        },
        ContractCase("lifecycle.basic", "provision -> inspect running -> stop -> inspect not running", exercises: [.provision, .inspect, .stop]) {
            run in
            let id = run.newWorkspaceId("basic")
            let started = try await run.provision(id)
            let seen = try await run.waitForState(id, [.running], "after provision")
            try run.expect(seen.instanceRef == nil || seen.instanceRef == started.instanceRef, "inspect instance_ref differs from provision's")
            let stopped = try await run.stop(id)
            try run.expect(stopped.stopped, "stop of a running workspace answered stopped=false")
            try await run.waitForState(id, [.absent, .stopped], "after stop")
        },
        ContractCase("lifecycle.repeated", "the same workspace goes up and down three times", exercises: [.provision, .inspect, .stop]) { run in
            let id = run.newWorkspaceId("repeat")
            for round in 1...3 {
                try await run.provision(id)
                try await run.waitForState(id, [.running], "round \(round) after provision")
                _ = try await run.stop(id)
                try await run.waitForState(id, [.absent, .stopped], "round \(round) after stop")
            }
        },
        ContractCase("lifecycle.interleaved", "stopping one workspace leaves another running", exercises: [.provision, .inspect, .stop]) { run in
            let a = run.newWorkspaceId("inter-a")
            let b = run.newWorkspaceId("inter-b")
            try await run.provision(a)
            try await run.provision(b)
            _ = try await run.stop(a)
            try await run.waitForState(a, [.absent, .stopped], "A after stopping A")
            try await run.waitForState(b, [.running], "B after stopping A")
            _ = try await run.stop(b)
            try await run.waitForState(b, [.absent, .stopped], "B after stopping B")
        },
        ContractCase(
            "provision.seed-archive", "a template's files (seed_archive) are in the files root once provision answers, and the answer says seeded",
            exercises: [.provision, .readFile], requires: [.provision, .readFile]
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
                throw ContractSkip("the provider does not write seed_archive (its answer has no \"seeded\": true): the Host refuses templates on it")
            }
            for file in files {
                let read: FileContent = try await run.ok(.readFile, FilePathRequest(workspaceId: id, path: file.path))
                try run.expect(
                    Data(base64Encoded: read.contentBase64) == Data(file.content), "answered seeded, but \(file.path) does not hold the seed's bytes")
            }
            _ = try await run.stop(id)
        },
        ContractCase("idempotency.provision-twice", "provisioning twice answers the same instance", exercises: [.provision, .listOwned]) { run in
            let id = run.newWorkspaceId("twice")
            let first = try await run.provision(id)
            let second = try await run.provision(id)
            try run.expect(first.instanceRef == second.instanceRef, "second provision started \(second.instanceRef), first was \(first.instanceRef)")
            let owned: ListOwnedResponse = try await run.ok(.listOwned, ListOwnedRequest(owner: run.owner))
            let instances = owned.resources.filter { $0.workspaceId == id && $0.kind == .instance }
            try run.expect(instances.count == 1, "list_owned shows \(instances.count) instances of a workspace provisioned twice")
            _ = try await run.stop(id)
        },
        ContractCase("idempotency.stop-unknown", "stopping an unknown workspace succeeds with stopped=false", exercises: [.stop]) { run in
            let answer = try await run.stop(run.newWorkspaceId("never"))
            try run.expect(!answer.stopped, "stop of an unknown workspace answered stopped=true")
        },
        ContractCase("idempotency.stop-twice", "stopping twice succeeds both times", exercises: [.provision, .stop]) { run in
            let id = run.newWorkspaceId("stop2")
            try await run.provision(id)
            _ = try await run.stop(id)
            let again = try await run.stop(id)
            try run.expect(!again.stopped, "second stop answered stopped=true")
        },
        ContractCase("idempotency.inspect-unknown", "inspecting an unknown workspace answers absent", exercises: [.inspect]) { run in
            let answer: InspectResponse = try await run.ok(.inspect, WorkspaceRef(workspaceId: run.newWorkspaceId("never")))
            try run.expect(answer.state == .absent, "unknown workspace inspects as \(answer.state.rawValue)")
        },
        ContractCase("validation.bad-request", "a request missing workspace_id is INVALID_ARGUMENT", exercises: [.provision, .inspect]) { run in
            try await run.expectError(.invalidArgument, .provision, ["name": "no-id"], "provision without workspace_id")
            try await run.expectError(.invalidArgument, .inspect, [String: String](), "inspect without workspace_id")
        },
        ContractCase(
            "validation.workspace-id", "workspace ids outside the shared rule (Identifier) are INVALID_ARGUMENT on provision, inspect and stop",
            exercises: [.provision, .inspect, .stop]
        ) { run in
            let invalid = ["", ".hidden", "../escape", "a/b", "a..b", "has space", "semi;colon", "na\u{EF}ve", String(repeating: "x", count: 129)]
            for id in invalid {
                let shown = id.count > 20 ? "\(id.prefix(8))…(\(id.count) characters)" : "\"\(id)\""
                try await run.expectError(.invalidArgument, .provision, run.provisionRequest(id), "provision of workspace id \(shown)")
                try await run.expectError(.invalidArgument, .inspect, WorkspaceRef(workspaceId: id), "inspect of workspace id \(shown)")
                try await run.expectError(.invalidArgument, .stop, WorkspaceRef(workspaceId: id), "stop of workspace id \(shown)")
            }
            // The longest valid id, with every allowed character, is an id like any other.
            let prefix = "\(run.newWorkspaceId("Valid_id.x"))-"
            let longest = prefix + String(repeating: "z", count: Identifier.maximumLength - prefix.count)
            let answer: InspectResponse = try await run.ok(.inspect, WorkspaceRef(workspaceId: longest))
            try run.expect(answer.state == .absent, "a valid unknown workspace id of 128 characters inspects as \(answer.state.rawValue)")
        },
        ContractCase("burst.concurrent-7", "7 concurrent provisions all land and all stop", exercises: [.provision, .inspect, .stop]) { run in
            let ids = (1...7).map { run.newWorkspaceId("burst\($0)") }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in ids { group.addTask { try await run.provision(id) } }
                try await group.waitForAll()
            }
            for id in ids { try await run.waitForState(id, [.running], "\(id) after the burst") }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in ids { group.addTask { _ = try await run.stop(id) } }
                try await group.waitForAll()
            }
            for id in ids { try await run.waitForState(id, [.absent, .stopped], "\(id) after stopping the burst") }
        },
        ContractCase("deadline.honoured", "a call with no time left answers DEADLINE_EXCEEDED promptly", exercises: [.provision, .stop]) { run in
            let id = run.newWorkspaceId("deadline")
            let started = ContinuousClock.now
            do {
                _ = try await run.instance.call(.provision, run.provisionRequest(id), as: ProvisionResponse.self, timeout: .zero)
                throw ContractFailure("provision with a zero timeout succeeded")
            } catch let error as ProviderHost.ProviderCallError {
                try run.expect(error.status == .deadlineExceeded, "expected DEADLINE_EXCEEDED, got \(error.status.name): \(error.message)")
            }
            let elapsed = ContinuousClock.now - started
            try run.expect(elapsed < .seconds(2), "DEADLINE_EXCEEDED took \(elapsed)")
            try await Task.sleep(for: .milliseconds(200))
            _ = try await run.stop(id)
        },
        ContractCase(
            "files.round-trip", "binary content and a 1 MiB file round-trip; list shows them; delete removes",
            exercises: [.writeFile, .readFile, .listFiles, .deleteFile], requires: [.provision, .writeFile, .readFile, .listFiles, .deleteFile]
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
            exercises: [.readFile, .writeFile, .listFiles, .deleteFile], requires: [.provision, .readFile, .writeFile, .listFiles, .deleteFile]
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
            exercises: [.readFile, .writeFile, .listFiles, .deleteFile], requires: [.provision, .readFile, .writeFile, .listFiles, .deleteFile]
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
            exercises: [.readFile, .writeFile, .listFiles, .deleteFile], requires: [.provision, .readFile, .writeFile, .listFiles, .deleteFile]
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
            "plugins.install-list-uninstall", "an installed plugin shows in list_plugins and in the files; uninstall removes it",
            exercises: [.installPlugin, .listPlugins, .uninstallPlugin], requires: [.provision, .installPlugin, .listPlugins, .uninstallPlugin]
        ) { run in
            let id = run.newWorkspaceId("plugin")
            try await run.provision(id)
            let manifest = Array("name: contract-plugin\nversion: 1.0.0\n".utf8)
            let archive = TarArchive(entries: [
                .init(path: try RelativePath("skills"), kind: .directory, mode: 0o755),
                .init(path: try RelativePath("plugin.yaml"), kind: .file, mode: 0o644, contents: manifest),
                .init(path: try RelativePath("skills/hello.md"), kind: .file, mode: 0o644, contents: Array("# hello\n".utf8)),
            ])
            let installed: PluginInfo = try await run.ok(
                .installPlugin,
                InstallPluginRequest(workspaceId: id, name: "contract-plugin", archiveBase64: Data(archive.serialized()).base64EncodedString())
            )
            try run.expect(installed.files == 2, "install_plugin reported \(installed.files) files, expected 2")
            let listed: ListPluginsResponse = try await run.ok(.listPlugins, WorkspaceRef(workspaceId: id))
            try run.expect(listed.plugins.map(\.name).contains("contract-plugin"), "list_plugins lacks contract-plugin: \(listed.plugins)")
            if run.claims(.readFile) {
                let file: FileContent = try await run.ok(.readFile, FilePathRequest(workspaceId: id, path: "plugins/contract-plugin/plugin.yaml"))
                try run.expect(Data(base64Encoded: file.contentBase64) == Data(manifest), "plugin.yaml in the files differs from the archive")
            }
            let _: PluginInfo = try await run.ok(.uninstallPlugin, PluginRef(workspaceId: id, name: "contract-plugin"))
            let after: ListPluginsResponse = try await run.ok(.listPlugins, WorkspaceRef(workspaceId: id))
            try run.expect(!after.plugins.map(\.name).contains("contract-plugin"), "list_plugins still shows the uninstalled plugin")
            if run.claims(.readFile) {
                try await run.expectError(
                    .notFound, .readFile, FilePathRequest(workspaceId: id, path: "plugins/contract-plugin/plugin.yaml"), "read after uninstall"
                )
            }
            try await run.expectError(.notFound, .uninstallPlugin, PluginRef(workspaceId: id, name: "contract-plugin"), "uninstall twice")
            _ = try await run.stop(id)
        },
        ContractCase(
            "plugins.unsafe-archive", "archives with ../, absolute or link entries and bad names are INVALID_ARGUMENT",
            exercises: [.installPlugin], requires: [.provision, .installPlugin]
        ) { run in
            let id = run.newWorkspaceId("unsafe")
            try await run.provision(id)
            let hostile: [(String, [UInt8])] = [
                ("../ entry", TarArchive.rawEntry(name: "../escape.txt", contents: Array("x".utf8)) + TarArchive.trailer),
                ("absolute entry", TarArchive.rawEntry(name: "/tmp/escape.txt", contents: Array("x".utf8)) + TarArchive.trailer),
                ("symlink entry", TarArchive.rawEntry(name: "link", contents: [], typeflag: UInt8(ascii: "2"), link: "/etc") + TarArchive.trailer),
                ("garbage", Array("this is not a tar archive at all".utf8) + [UInt8](repeating: 7, count: 600)),
            ]
            for (what, bytes) in hostile {
                try await run.expectError(
                    .invalidArgument, .installPlugin,
                    InstallPluginRequest(workspaceId: id, name: "evil", archiveBase64: Data(bytes).base64EncodedString()), "plugin with \(what)"
                )
            }
            let fine = Data(TarArchive(entries: []).serialized()).base64EncodedString()
            for name in ["../evil", "a/b", ".hidden", ""] {
                try await run.expectError(
                    .invalidArgument, .installPlugin, InstallPluginRequest(workspaceId: id, name: name, archiveBase64: fine), "plugin name \(name)"
                )
            }
            _ = try await run.stop(id)
        },
        ContractCase(
            "plugins.links", "a plugins directory that is a symbolic link is refused by every plugin verb, never written through",
            exercises: [.installPlugin, .listPlugins, .uninstallPlugin],
            requires: [.provision, .installPlugin, .listPlugins, .uninstallPlugin, .readFile, .writeFile, .listFiles]
        ) { run in
            let id = run.newWorkspaceId("pluglinks")
            try await LinkFixture.provision(run, id, pluginsLink: true)
            let archive = TarArchive(entries: [.init(path: try RelativePath("plugin.yaml"), kind: .file, mode: 0o644, contents: Array("x\n".utf8))])
            try await run.expectError(
                .invalidArgument, .installPlugin,
                InstallPluginRequest(workspaceId: id, name: "through-link", archiveBase64: Data(archive.serialized()).base64EncodedString()),
                "install_plugin through a linked plugins directory")
            try await run.expectError(.invalidArgument, .listPlugins, WorkspaceRef(workspaceId: id), "list_plugins of a linked plugins directory")
            try await run.expectError(
                .invalidArgument, .uninstallPlugin, PluginRef(workspaceId: id, name: "data"), "uninstall_plugin through a linked plugins directory")
            let data: ListFilesResponse = try await run.ok(.listFiles, ListFilesRequest(workspaceId: id, path: LinkFixture.pluginsTarget))
            try run.expect(
                data.files.map(\.path) == ["\(LinkFixture.pluginsTarget)/note.txt"],
                "the link's target changed through a plugin verb: \(data.files.map(\.path))")
            _ = try await run.stop(id)
        },
        ContractCase(
            "pause.resume", "pause -> paused (twice OK) -> resume -> running (twice OK)", exercises: [.pause, .resume],
            requires: [.provision, .inspect, .pause, .resume]
        ) {
            run in
            let id = run.newWorkspaceId("pause")
            try await run.provision(id)
            try await run.waitForState(id, [.running], "after provision")
            let paused: InspectResponse = try await run.ok(.pause, WorkspaceRef(workspaceId: id))
            try run.expect(paused.state == .paused, "pause answered \(paused.state.rawValue)")
            try await run.waitForState(id, [.paused], "after pause")
            let _: InspectResponse = try await run.ok(.pause, WorkspaceRef(workspaceId: id))
            let resumed: InspectResponse = try await run.ok(.resume, WorkspaceRef(workspaceId: id))
            try run.expect(resumed.state == .running, "resume answered \(resumed.state.rawValue)")
            try await run.waitForState(id, [.running], "after resume")
            let _: InspectResponse = try await run.ok(.resume, WorkspaceRef(workspaceId: id))
            try await run.expectError(.notFound, .pause, WorkspaceRef(workspaceId: run.newWorkspaceId("never")), "pause of an unknown workspace")
            _ = try await run.stop(id)
        },
        ContractCase(
            "snapshot.restore", "a snapshot restored into a new workspace carries the file content",
            exercises: [.snapshot, .restore], requires: [.provision, .snapshot, .restore, .writeFile, .readFile]
        ) { run in
            let source = run.newWorkspaceId("snap-src")
            let target = run.newWorkspaceId("snap-dst")
            try await run.provision(source)
            let content = Data("snapshot payload \(run.runId)\n".utf8) + Data([0, 255, 1, 254])
            let _: FileWriteResponse = try await run.ok(
                .writeFile, WriteFileRequest(workspaceId: source, path: "state/snap.bin", contentBase64: content.base64EncodedString())
            )
            let snapshot: SnapshotResponse = try await run.ok(.snapshot, WorkspaceRef(workspaceId: source))
            try run.expect(!snapshot.snapshotId.isEmpty, "snapshot answered an empty snapshot_id")
            run.track(target)
            let _: ProvisionResponse = try await run.ok(.restore, run.provisionRequest(target, snapshotId: snapshot.snapshotId))
            try await run.waitForState(target, [.running], "restored workspace")
            let read: FileContent = try await run.ok(.readFile, FilePathRequest(workspaceId: target, path: "state/snap.bin"))
            try run.expect(Data(base64Encoded: read.contentBase64) == content, "restored file differs from the snapshot's")
            try await run.expectError(
                .notFound, .restore, run.provisionRequest(run.newWorkspaceId("x"), snapshotId: "no-such-snapshot"), "restore of an unknown snapshot")
            _ = try await run.stop(source)
            _ = try await run.stop(target)
        },
        ContractCase(
            "logs.non-empty", "the console log is non-empty after start and the cursor advances", exercises: [.logs], requires: [.provision, .logs]
        ) {
            run in
            let id = run.newWorkspaceId("logs")
            try await run.provision(id)
            let deadline = ContinuousClock.now + run.timeout
            var logs = LogsResponse(content: "", cursor: "")
            while ContinuousClock.now < deadline {
                logs = try await run.ok(.logs, LogsRequest(workspaceId: id, tailLines: 50))
                if !logs.content.isEmpty { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            try run.expect(!logs.content.isEmpty, "logs stayed empty (the workload must print something at start)")
            let next: LogsResponse = try await run.ok(.logs, LogsRequest(workspaceId: id, cursor: logs.cursor))
            try run.expect(!next.cursor.isEmpty, "logs with a cursor answered an empty cursor")
            _ = try await run.stop(id)
        },
        ContractCase(
            "list-owned.tracks", "list_owned shows what was created and not what was stopped", exercises: [.listOwned],
            requires: [.provision, .stop, .listOwned]
        ) {
            run in
            let kept = run.newWorkspaceId("owned-kept")
            let gone = run.newWorkspaceId("owned-gone")
            try await run.provision(kept)
            try await run.provision(gone)
            _ = try await run.stop(gone)
            let owned: ListOwnedResponse = try await run.ok(.listOwned, ListOwnedRequest(owner: run.owner))
            let instances = Set(owned.resources.filter { $0.kind == .instance }.map(\.workspaceId))
            try run.expect(instances.contains(kept), "list_owned lacks the running workspace \(kept)")
            try run.expect(!instances.contains(gone), "list_owned still lists the stopped workspace \(gone) as an instance")
            try run.expect(owned.resources.allSatisfy { $0.owner == run.owner }, "list_owned answered resources of another owner")
            let other: ListOwnedResponse = try await run.ok(.listOwned, ListOwnedRequest(owner: "someone-else-\(run.runId)"))
            try run.expect(!other.resources.contains { $0.workspaceId == kept }, "list_owned for another owner shows this run's workspace")
            _ = try await run.stop(kept)
        },
        ContractCase(
            "list-owned.after-restart", "a new instance of the provider (a restarted Host) finds and stops what the old one created",
            exercises: [.listOwned, .stop], requires: [.provision, .stop, .listOwned]
        ) { run in
            let id = run.newWorkspaceId("restart")
            try await run.provision(id)
            let restarted = try await run.makeInstance(configuration: run.providerConfiguration)
            defer { Task { await restarted.shutdown() } }
            let owned = try await restarted.call(.listOwned, ListOwnedRequest(owner: run.owner), as: ListOwnedResponse.self)
            try run.expect(owned.resources.contains { $0.workspaceId == id && $0.kind == .instance }, "the new instance's list_owned lacks \(id)")
            let stopped = try await restarted.call(.stop, WorkspaceRef(workspaceId: id), as: StopResponse.self)
            try run.expect(stopped.stopped, "the new instance could not stop what the old one started")
            try await run.waitForState(id, [.absent, .stopped], "after stop through the new instance")
        },
        ContractCase(
            "orphans.reapable", "a restarted Host can reap what list_owned shows: stop and remove_storage by workspace id empty it",
            exercises: [.listOwned, .stop, .removeStorage], requires: [.provision, .stop, .listOwned, .removeStorage]
        ) { run in
            let id = run.newWorkspaceId("orphan")
            try await run.provision(id)
            let restarted = try await run.makeInstance(configuration: run.providerConfiguration)
            defer { Task { await restarted.shutdown() } }
            let owned = try await restarted.call(.listOwned, ListOwnedRequest(owner: run.owner), as: ListOwnedResponse.self).resources
            let mine = owned.filter { $0.workspaceId == id }
            try run.expect(mine.contains { $0.kind == .instance }, "list_owned after a restart lacks the instance of \(id)")
            try run.expect(mine.allSatisfy { $0.createdAtMs > 0 }, "list_owned resources need a creation time for the reaper's grace period")
            _ = try await restarted.call(.stop, WorkspaceRef(workspaceId: id), as: StopResponse.self)
            _ = try await restarted.call(.removeStorage, WorkspaceRef(workspaceId: id), as: RemoveStorageResponse.self)
            let after = try await restarted.call(.listOwned, ListOwnedRequest(owner: run.owner), as: ListOwnedResponse.self).resources
            try run.expect(!after.contains { $0.workspaceId == id && $0.kind != .snapshot }, "\(id) is still listed after being reaped")
        },
        ContractCase(
            "diagnose.stages", "diagnose answers named stages with durations; all pass for a running workspace", exercises: [.diagnose],
            requires: [.provision, .diagnose]
        ) {
            run in
            let id = run.newWorkspaceId("diag")
            try await run.provision(id)
            try await run.waitForState(id, [.running], "before diagnose")
            let report: DiagnoseResponse = try await run.ok(.diagnose, WorkspaceRef(workspaceId: id))
            try run.expect(!report.stages.isEmpty, "diagnose answered no stages")
            try run.expect(report.stages.allSatisfy { !$0.name.isEmpty && $0.durationMs >= 0 }, "diagnose stage without a name or duration")
            try run.expect(report.ok, "diagnose of a running workspace failed at \(report.firstFailure ?? "?"): \(report.stages)")
            let unknown: DiagnoseResponse = try await run.ok(.diagnose, WorkspaceRef(workspaceId: run.newWorkspaceId("never")))
            try run.expect(!unknown.ok && unknown.firstFailure != nil, "diagnose of an unknown workspace reported ok")
            _ = try await run.stop(id)
        },
        ContractCase(
            "storage.remove", "remove_storage deletes a stopped workspace's storage; again is a no-op", exercises: [.removeStorage],
            requires: [.provision, .stop, .removeStorage]
        ) {
            run in
            let id = run.newWorkspaceId("storage")
            try await run.provision(id)
            _ = try await run.stop(id)
            let removed: RemoveStorageResponse = try await run.ok(.removeStorage, WorkspaceRef(workspaceId: id))
            try run.expect(removed.removed, "remove_storage of a stopped workspace answered removed=false")
            let again: RemoveStorageResponse = try await run.ok(.removeStorage, WorkspaceRef(workspaceId: id))
            try run.expect(!again.removed, "second remove_storage answered removed=true")
            if run.claims(.listOwned) {
                let owned: ListOwnedResponse = try await run.ok(.listOwned, ListOwnedRequest(owner: run.owner))
                try run.expect(!owned.resources.contains { $0.workspaceId == id }, "list_owned still lists removed storage of \(id)")
            }
        },
        ContractCase(
            "unreachable.unavailable", "against an unreachable backend, verbs answer UNAVAILABLE promptly",
            exercises: [.describe, .provision], requires: [.describe, .provision]
        ) { run in
            guard let config = run.configuration.unreachable else { throw ContractSkip("the contract configuration has no \"unreachable\" section") }
            let down = try await run.makeInstance(configuration: config)
            defer { Task { await down.shutdown() } }
            let started = ContinuousClock.now
            for verb in [Verb.describe, .provision] {
                let request: [UInt8] = verb == .describe ? Array("{}".utf8) : try WireCoding.encode(run.provisionRequest(run.newWorkspaceId("down")))
                do {
                    _ = try await down.call(verb, request: request, timeout: run.timeout)
                    throw ContractFailure("\(verb) against an unreachable backend succeeded")
                } catch let error as ProviderHost.ProviderCallError {
                    try run.expect(
                        error.status == .unavailable, "\(verb) against an unreachable backend answered \(error.status.name): \(error.message)")
                    try run.expect(error.retryable, "UNAVAILABLE from \(verb) is not marked retryable")
                }
            }
            try run.expect(ContinuousClock.now - started < .seconds(30), "UNAVAILABLE took more than 30 s")
        },
    ]
}

/// Thrown by a case that cannot run in this configuration.
public struct ContractSkip: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
