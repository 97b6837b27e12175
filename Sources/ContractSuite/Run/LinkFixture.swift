import Foundation
import ProviderHost
import ProviderWire

/// The symbolic links the `files.links` and `plugins.links` cases need in a workspace's files root, which no verb can
/// create. Planted directly where the configuration says this machine reaches the files root (`files_root`), else by
/// the workload: the request's command, which every file-serving provider runs in the files root.
///
/// Under `contract-links/`: `data/note.txt` (a regular file, written with `write_file`), `up -> ../..` (a link out of
/// the files root), `inside -> data` and `file-link -> data/note.txt` (links that stay inside it); with plugins,
/// `plugins -> contract-links/data`.
enum LinkFixture {
    static let directory = "contract-links"
    static let note = Array("note\n".utf8)
    /// Name and target of each link in ``directory``.
    static let links: [(name: String, target: String)] = [("up", "../.."), ("inside", "data"), ("file-link", "data/note.txt")]
    static let pluginsTarget = directory + "/data"

    /// Provisions `workspaceId` with the links in place, then writes `data/note.txt`.
    static func provision(_ run: ContractRun, _ workspaceId: String, pluginsLink: Bool) async throws {
        if let template = run.configuration.filesRoot {
            try await run.provision(workspaceId)
            try await writeNote(run, workspaceId)
            try plant(at: try filesRoot(template, configuration: run.providerConfiguration, workspaceId: workspaceId), pluginsLink: pluginsLink)
            return
        }
        var request = run.provisionRequest(workspaceId)
        request.command = ["/bin/sh", "-c", script(pluginsLink: pluginsLink)]
        run.track(workspaceId)
        let _: ProvisionResponse = try await run.ok(.provision, request)
        try await waitUntilPlanted(run, workspaceId)
        try await writeNote(run, workspaceId)
    }

    /// The workload that plants the links in its working directory (the files root), marks them done, and stays up.
    static func script(pluginsLink: Bool) -> String {
        var steps = ["mkdir -p \(directory)"] + links.map { "ln -s '\($0.target)' '\(directory)/\($0.name)'" }
        if pluginsLink { steps += ["rm -rf plugins", "ln -s '\(pluginsTarget)' plugins"] }
        steps.append(": > \(directory)/ready")
        return steps.joined(separator: " && ") + "; echo workspace $WORKSPACE_ID started; while :; do sleep 1; done"
    }

    /// `files_root` for one workspace: each `{config.KEY.SUBKEY}` is the provider configuration's string at that path
    /// (so a root follows the configuration it comes from), then `{workspace_id}` is the workspace's id.
    static func filesRoot(_ template: String, configuration: JSONValue, workspaceId: String) throws -> String {
        var root = ""
        var rest = Substring(template)
        while let start = rest.range(of: "{config.") {
            root += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw ContractFailure("files_root \(template): unterminated {config.…}")
            }
            let keys = rest[start.upperBound..<end].split(separator: ".").map(String.init)
            var value: JSONValue? = configuration
            for key in keys { value = value?[key] }
            guard let text = value?.stringValue else {
                throw ContractFailure("files_root \(template): the provider configuration has no string at \(keys.joined(separator: "."))")
            }
            root += text
            rest = rest[rest.index(after: end)...]
        }
        return (root + rest).replacingOccurrences(of: "{workspace_id}", with: workspaceId)
    }

    static func plant(at root: String, pluginsLink: Bool) throws {
        let files = FileManager.default
        do {
            for link in links {
                try files.createSymbolicLink(atPath: "\(root)/\(directory)/\(link.name)", withDestinationPath: link.target)
            }
            if pluginsLink {
                if files.fileExists(atPath: "\(root)/plugins") { try files.removeItem(atPath: "\(root)/plugins") }
                try files.createSymbolicLink(atPath: "\(root)/plugins", withDestinationPath: pluginsTarget)
            }
        } catch {
            throw ContractFailure("cannot plant the link fixture under files_root \(root) (does this user own it?): \(error)")
        }
    }

    static func waitUntilPlanted(_ run: ContractRun, _ workspaceId: String) async throws {
        let deadline = ContinuousClock.now + run.timeout
        let marker = FilePathRequest(workspaceId: workspaceId, path: "\(directory)/ready")
        while true {
            do {
                _ = try await run.instance.call(.readFile, marker, as: FileContent.self, timeout: run.timeout)
                return
            } catch  where error.status == .notFound && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            } catch {
                throw ContractFailure(
                    "the workload did not plant the link fixture (\(error.status.name): \(error.message)); the provider must run the "
                        + "request's command in the files root, or the configuration must name files_root")
            }
        }
    }

    static func writeNote(_ run: ContractRun, _ workspaceId: String) async throws {
        let _: FileWriteResponse = try await run.ok(
            .writeFile,
            WriteFileRequest(workspaceId: workspaceId, path: "\(directory)/data/note.txt", contentBase64: Data(note).base64EncodedString()))
    }
}
