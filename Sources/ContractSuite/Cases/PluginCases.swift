import Foundation
import ProviderHost
import ProviderWire

/// The `plugins` profile.
extension ContractCatalogue {
    static let plugins: [ContractCase] = [
        ContractCase(
            "plugins.install-list-uninstall", "an installed plugin shows in list_plugins and in the files; uninstall removes it",
            profile: .plugins, exercises: [.installPlugin, .listPlugins, .uninstallPlugin],
            requires: [.provision, .installPlugin, .listPlugins, .uninstallPlugin]
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
            profile: .plugins, exercises: [.installPlugin], requires: [.provision, .installPlugin]
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
            profile: .plugins, exercises: [.installPlugin, .listPlugins, .uninstallPlugin],
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
    ]
}
