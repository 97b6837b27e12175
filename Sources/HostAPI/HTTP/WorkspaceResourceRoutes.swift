import Foundation
import HostDispatch
import HostRequests
import HostStore
import Hummingbird
import ProviderWire

/// A workspace's files, plugins, boot log and diagnosis — the same endpoints for every provider.
struct WorkspaceResourceRoutes: Sendable {
    let host: HostContext

    func register(_ routes: RouteTable) {
        routes.add(.get, "/workspaces/{id}/files", .workspace) { request, context in
            let workspace = try await host.workspace(context, request)
            try checkRoot(request)
            let depth = Int(request.query("depth") ?? "1") ?? 0
            guard (1...5).contains(depth) else { throw APIError.badRequest("depth must be between 1 and 5") }
            let listing = try await host.dispatcher.listFiles(workspace, path: request.query("path") ?? "", depth: depth)
            return try JSONResponse.make(listing.files)
        }
        routes.add(.get, "/workspaces/{id}/files/{path}", .workspace) { request, context in
            let workspace = try await host.workspace(context, request)
            try checkRoot(request)
            let file = try await host.dispatcher.readFile(workspace, path: path(context))
            let bytes = Data(base64Encoded: file.contentBase64) ?? Data()
            let text = String(data: bytes, encoding: .utf8)
            return try JSONResponse.object([
                "path": .string(file.path), "size": .number(Double(file.size)), "content": text.map(JSONValue.string) ?? .null,
                "content_base64": .string(file.contentBase64),
            ])
        }
        routes.add(.put, "/workspaces/{id}/files/{path}", .workspace) { request, context in
            let workspace = try await host.workspace(context, request)
            try checkRoot(request)
            let body = try await request.json(WriteFileBody.self, limit: host.configuration.maxUploadBytes)
            // Base64 is checked once (by the body) and passed on as sent; text is encoded once.
            let written = try await host.dispatcher.writeFile(workspace, path: path(context), contentBase64: body.base64)
            return try JSONResponse.object(["status": "saved", "path": .string(written.path), "size": .number(Double(written.size))])
        }
        routes.add(.delete, "/workspaces/{id}/files/{path}", .workspace) { request, context in
            let workspace = try await host.workspace(context, request)
            try checkRoot(request)
            let deleted = try await host.dispatcher.deleteFile(workspace, path: path(context))
            return try JSONResponse.object(["status": "deleted", "path": .string(deleted.path)])
        }
        routes.add(.get, "/workspaces/{id}/plugins", .workspace) { request, context in
            let workspace = try await host.workspace(context, request)
            return try JSONResponse.make(try await host.dispatcher.listPlugins(workspace).plugins)
        }
        routes.add(.post, "/workspaces/{id}/plugins", .workspace) { request, context in
            let workspace = try await host.workspace(context, request)
            let body = try await request.json(InstallPluginBody.self, limit: host.configuration.maxUploadBytes)
            // The archive is read here first, by libarchive under the upload limits: a crafted tar is a 400 (or 413)
            // before any provider sees it.
            do throws(TarArchiveError) { _ = try TarArchive.read([UInt8](body.archive), limits: .upload) } catch {
                throw APIError(
                    error.isTooLarge ? .contentTooLarge : .badRequest, error.isTooLarge ? "payload_too_large" : "invalid_archive", error.description)
            }
            let installed = try await host.dispatcher.installPlugin(workspace, name: body.name, archiveBase64: body.archiveBase64)
            var restarting = false
            if body.restart ?? true, !workspace.isExternal, workspace.status != .paused {
                restarting = (try? await host.lifecycle.restart(workspace)) ?? false
            }
            return try JSONResponse.object([
                "status": "installed", "plugin": .string(installed.name), "files": .number(Double(installed.files)), "restarting": .bool(restarting),
            ])
        }
        routes.add(.delete, "/workspaces/{id}/plugins/{name}", .workspace) { request, context in
            let workspace = try await host.workspace(context, request)
            let name = context.parameters.get("name") ?? ""
            let removed = try await host.dispatcher.uninstallPlugin(workspace, name: name)
            return try JSONResponse.object(["status": "uninstalled", "plugin": .string(removed.name)])
        }
        routes.add(.get, "/workspaces/{id}/boot-log", .workspace) { request, context in
            let workspace = try await host.workspace(context, request)
            let tail = request.query("tail").flatMap(Int.init)
            if let tail, !(0...100_000).contains(tail) { throw APIError.badRequest("tail must be between 0 and 100000 lines") }
            if request.query("tail") != nil, tail == nil { throw APIError.badRequest("tail must be a whole number of lines") }
            let logs = try await host.dispatcher.logs(workspace, tailLines: tail, cursor: request.query("cursor"))
            return try JSONResponse.object([
                "workspace_id": .string(workspace.id.uuidString.lowercased()), "content": .string(logs.content), "cursor": .string(logs.cursor),
            ])
        }
        routes.add(.get, "/workspaces/{id}/terminal/diagnose", .workspace) { request, context in
            let workspace = try await host.workspace(context, request)
            // Always 200: a failure is a failed step, never an error response.
            var steps: [JSONValue] = []
            var ok = false
            do {
                let report = try await host.dispatcher.diagnose(workspace)
                ok = report.ok
                steps = try report.stages.map { stage in try WireCoding.decode(JSONValue.self, from: WireCoding.encode(stage)) }
            } catch {
                steps = [.object(["name": "provider", "ok": false, "duration_ms": 0, "error": .string("\(error)")])]
            }
            let firstFailure = steps.first { $0["ok"] == .bool(false) }?["name"] ?? .null
            return try JSONResponse.object([
                "workspace_id": .string(workspace.id.uuidString.lowercased()), "provider": .string(workspace.provider), "ok": .bool(ok),
                "first_failure": firstFailure, "steps": .array(steps),
            ])
        }
    }

    /// Files are served from the workspace's files root (`/configs`); other roots are refused, not silently mapped.
    func checkRoot(_ request: Request) throws {
        if let root = request.query("root"), root != "/configs", !root.isEmpty {
            throw APIError.badRequest("root \"\(root)\" is not served; files live under /configs")
        }
    }

    func path(_ context: HostRequestContext) -> String {
        context.parameters.getCatchAll().joined(separator: "/").removingPercentEncoding ?? ""
    }
}
