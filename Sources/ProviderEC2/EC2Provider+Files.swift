import Foundation
import ProviderKit
import ProviderWire

/// The files verbs over SSH, inside the runtime's root on the instance (the configs volume). Paths are validated
/// locally (``RelativePath``); every script then walks its path with ``FilePolicy``'s shell observer and passes its
/// gate before it acts, so the instance answers exactly what the other providers answer.
extension EC2Provider: FileServingProvider {
    /// The gate line for `operation` on `path`.
    func gate(_ operation: FilePolicy.Operation, _ path: RelativePath) -> String {
        FilePolicy.shellGate(operation, path: path, root: "\"$ROOT\"", quote: \.shellQuoted)
    }

    func listFiles(_ request: ListFilesRequest, context: CallContext) throws -> ListFilesResponse {
        guard (1...5).contains(request.depth) else { throw ProviderError.invalidArgument("depth must be between 1 and 5") }
        let base = try RelativePath(request.path, allowRoot: true)
        let output = try withFiles(request.workspaceId, context: context) { session, root in
            // A files root not created yet lists as empty; find never follows a link (-P).
            let script = """
                \(gate(.list, base))
                [ -d "$MW_PATH" ] || exit 0
                find "$MW_PATH" -mindepth 1 -maxdepth \(request.depth) -path '*/lost+found' -prune -o -printf '%y\\t%s\\t%P\\n' 2>/dev/null || [ $? -eq 1 ]
                """
            return try execute(
                session, root: root, script, what: "list \(base.isRoot ? "the files root" : base.string)", policy: (.list, base), context: context
            ).stdout
        }
        var files: [FileEntry] = []
        for line in String(decoding: output, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, !fields[2].isEmpty else { continue }
            let path = base.isRoot ? String(fields[2]) : base.string + "/" + fields[2]
            let node: FilePolicy.Node =
                switch fields[0] {
                case "f": .file(size: Int64(fields[1]) ?? 0)
                case "d": .directory
                case "l": .link
                default: .other
                }
            files.append(FilePolicy.entry(path: path, node: node))
        }
        return ListFilesResponse(files: files.sorted { $0.path < $1.path })
    }

    func readFile(_ request: FilePathRequest, context: CallContext) throws -> FileContent {
        let path = try RelativePath(request.path)
        let bytes = try withFiles(request.workspaceId, context: context) { session, root in
            let script = """
                \(gate(.read, path))
                stat -c %a -- "$MW_PATH" && cat -- "$MW_PATH"
                """
            return try execute(session, root: root, script, what: "read \(path)", policy: (.read, path), context: context).stdout
        }
        // The first line is the permission bits in octal (stat), the rest the file's bytes.
        guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")), let mode = Int(String(decoding: bytes[..<newline], as: UTF8.self), radix: 8)
        else {
            throw ProviderError.internal("read \(path): the instance answered no file mode")
        }
        let content = Data(bytes[(newline + 1)...])
        return FileContent(path: path.string, size: Int64(content.count), contentBase64: content.base64EncodedString(), mode: mode)
    }

    func writeFile(_ request: WriteFileRequest, context: CallContext) throws -> FileWriteResponse {
        let path = try RelativePath(request.path)
        guard let data = Data(base64Encoded: request.contentBase64) else { throw ProviderError.invalidArgument("content_base64 is not valid base64") }
        let mode = request.mode ?? 0o644
        guard (0...0o7777).contains(mode) else { throw ProviderError.invalidArgument("mode \(mode) is not a file mode") }
        // Each missing parent is created and given to the agent's uid; the gate runs again once they exist.
        let parents = (0..<(path.components.count - 1)).map { "\"$ROOT\"/" + path.components[0...$0].joined(separator: "/").shellQuoted }
        try withFiles(request.workspaceId, context: context) { session, root in
            // The content goes to a fresh temporary file (mktemp: created exclusively, never through a link) renamed
            // over the target.
            let script = """
                [ -d "$ROOT" ] || exit \(RemoteScriptError.Reason.rootMissing.rawValue)
                \(gate(.write, path))
                for d in \(parents.joined(separator: " ")); do [ -d "$d" ] || { mkdir -- "$d" 2>/dev/null || [ -d "$d" ]; own "$U:$U" "$d"; }; done
                \(gate(.write, path))
                T=$(mktemp -- "$MW_PATH.molecule-XXXXXX")
                cat > "$T"; chmod \(String(mode, radix: 8)) "$T"; own "$U:$U" "$T"; mv -f -- "$T" "$MW_PATH"
                """
            try execute(session, root: root, script, stdin: [UInt8](data), what: "write \(path)", policy: (.write, path), context: context)
        }
        return FileWriteResponse(path: path.string, size: Int64(data.count))
    }

    func deleteFile(_ request: FilePathRequest, context: CallContext) throws -> FileWriteResponse {
        let path = try RelativePath(request.path)
        let output = try withFiles(request.workspaceId, context: context) { session, root in
            let script = """
                \(gate(.delete, path))
                printf '%s %s' "$MW_KIND" "$MW_SIZE"; rm -rf -- "$MW_PATH"
                """
            return try execute(session, root: root, script, what: "delete \(path)", policy: (.delete, path), context: context).stdout
        }
        let fields = String(decoding: output, as: UTF8.self).split(separator: " ")
        let size = fields.first == "file" && fields.count > 1 ? Int64(fields[1]) ?? 0 : 0
        return FileWriteResponse(path: path.string, size: size)
    }
}

/// Plugins over SSH: the archive is validated here (no absolute, `..` or link entries), then unpacked remotely into
/// `<root>/plugins/<name>` by a staged directory swapped in place, owned by the agent's uid.
extension EC2Provider: PluginHostingProvider {
    func installPlugin(_ request: InstallPluginRequest, context: CallContext) throws -> PluginInfo {
        try RelativePath.validatePluginName(request.name)
        guard let bytes = Data(base64Encoded: request.archiveBase64) else {
            throw ProviderError.invalidArgument("archive_base64 is not valid base64")
        }
        let archive = try TarArchive(parsing: [UInt8](bytes))
        var entries: [TarArchive.Entry] = []
        for var entry in archive.entries {
            guard entry.kind == .file || entry.kind == .directory else {
                throw ProviderError.invalidArgument("plugin archive entry \(entry.path) is not a file or directory; links are refused")
            }
            entry.uid = config.pluginUid
            entry.gid = config.pluginUid
            entries.append(entry)
        }
        let files = entries.filter { $0.kind == .file }.count
        let pluginPath = try RelativePath("plugins/\(request.name)")
        try withFiles(request.workspaceId, context: context) { session, root in
            // Unpacked into a fresh staging directory, then swapped in: a failed unpack leaves the old plugin intact.
            let script = """
                [ -d "$ROOT" ] || exit \(RemoteScriptError.Reason.rootMissing.rawValue)
                \(gate(.makeDirectory, pluginPath))
                [ -d "$ROOT/plugins" ] || { mkdir -- "$ROOT/plugins"; own "$U:$U" "$ROOT/plugins"; }
                \(gate(.makeDirectory, pluginPath))
                D=$MW_PATH
                T=$(mktemp -d -- "$D.installing-XXXXXX"); chmod 755 "$T"
                tar -xf - --no-same-owner -C "$T" || { rm -rf -- "$T"; exit 1; }
                [ "$(id -u)" != 0 ] || chown -h -R "$U:$U" "$T"
                rm -rf -- "$D"; mv -- "$T" "$D"
                """
            try execute(
                session, root: root, script, stdin: TarArchive(entries: entries).serialized(), what: "install plugin \(request.name)",
                policy: (.makeDirectory, pluginPath), context: context)
        }
        return PluginInfo(name: request.name, files: files)
    }

    func uninstallPlugin(_ request: PluginRef, context: CallContext) throws -> PluginInfo {
        try RelativePath.validatePluginName(request.name)
        let pluginPath = try RelativePath("plugins/\(request.name)")
        let output: [UInt8]
        do {
            output = try withFiles(request.workspaceId, context: context) { session, root in
                let script = """
                    \(gate(.uninstallPlugin, pluginPath))
                    find "$MW_PATH" -type f | wc -l; rm -rf -- "$MW_PATH"
                    """
                return try execute(
                    session, root: root, script, what: "uninstall plugin \(request.name)", policy: (.uninstallPlugin, pluginPath), context: context
                ).stdout
            }
        } catch FilePolicy.Violation.notFound(path: _) {
            throw ProviderError.notFound("plugin \(request.name) is not installed on workspace \(request.workspaceId)")
        }
        return PluginInfo(
            name: request.name, files: Int(String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0)
    }

    func listPlugins(_ request: WorkspaceRef, context: CallContext) throws -> ListPluginsResponse {
        let plugins = try RelativePath("plugins")
        let output = try withFiles(request.workspaceId, context: context) { session, root in
            let script = """
                \(gate(.listPlugins, plugins))
                [ -d "$MW_PATH" ] || exit 0
                find "$MW_PATH" -mindepth 1 -printf '%y\\t%P\\n'
                """
            return try execute(session, root: root, script, what: "list plugins", policy: (.listPlugins, plugins), context: context).stdout
        }
        var counts: [String: Int] = [:]
        for line in String(decoding: output, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: "\t", maxSplits: 1)
            guard fields.count == 2, let name = fields[1].split(separator: "/").first.map(String.init) else { continue }
            guard !name.hasPrefix("."), !name.contains(".installing-") else { continue }
            counts[name, default: 0] += fields[0] == "f" ? 1 : 0
        }
        return ListPluginsResponse(plugins: counts.keys.sorted().map { PluginInfo(name: $0, files: counts[$0]!) })
    }
}
