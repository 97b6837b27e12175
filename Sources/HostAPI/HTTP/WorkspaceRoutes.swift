import Foundation
import HostDispatch
import HostRequests
import HostStore
import Hummingbird
import ProviderWire

/// `/workspaces`: create, list, get, patch, delete, restart, pause, resume, snapshot.
struct WorkspaceRoutes: Sendable {
    let host: HostContext

    func register(_ routes: RouteTable) {
        routes.add(.post, "/workspaces", .admin, create)
        routes.add(.get, "/workspaces", .admin) { request, _ in
            try JSONResponse.make(try await host.store.list(includeRemoved: try request.flag("include_removed")))
        }
        routes.add(.get, "/workspaces/{id}", .workspace) { request, context in
            try JSONResponse.make(try await host.workspace(context, request, includeRemoved: try request.flag("include_removed")))
        }
        routes.add(.patch, "/workspaces/{id}", .workspace, patch)
        routes.add(.delete, "/workspaces/{id}", .admin, delete)
        routes.add(.post, "/workspaces/{id}/restart", .workspace, restart)
        routes.add(.post, "/workspaces/{id}/pause", .workspace) { request, context in
            let workspace = try await host.workspace(context, request)
            try await host.lifecycle.pause(workspace)
            return try JSONResponse.object(["status": "paused", "id": .string(workspace.id.uuidString.lowercased())])
        }
        routes.add(.post, "/workspaces/{id}/resume", .workspace) { request, context in
            let workspace = try await host.workspace(context, request)
            try await host.lifecycle.resume(workspace)
            return try JSONResponse.object(["status": workspace.agent ? "online" : "running", "id": .string(workspace.id.uuidString.lowercased())])
        }
        routes.add(.post, "/workspaces/{id}/snapshot", .workspace) { request, context in
            let workspace = try await host.workspace(context, request)
            let snapshot = try await host.dispatcher.snapshot(workspace)
            await host.lifecycle.record("WORKSPACE_SNAPSHOT", workspace.id, ["snapshot_id": .string(snapshot.snapshotId)])
            return try JSONResponse.object(["snapshot_id": .string(snapshot.snapshotId), "id": .string(workspace.id.uuidString.lowercased())])
        }
    }

    @Sendable func create(_ request: Request, _ context: HostRequestContext) async throws -> Response {
        let body = try await request.json(CreateWorkspaceBody.self, limit: host.configuration.maxBodyBytes)
        let name = body.trimmedName
        let runtime = body.runtime ?? "default"
        let created = try await host.lifecycle.create(
            .init(
                name: name, role: body.role, tier: body.tier ?? 3, runtime: runtime, provider: body.provider, parentId: body.parentId,
                config: body.config ?? .object([:]), snapshotId: body.snapshotId, agent: body.agent ?? true, template: body.template
            )
        )
        let workspace = created.workspace
        if let token = created.externalToken {
            var answer = try host.encodeObject(workspace)
            answer["connection"] = .object([
                "workspace_id": .string(workspace.id.uuidString.lowercased()), "platform_url": .string(host.configuration.resolvedPlatformURL),
                "auth_token": .string(token), "register_url": .string(host.configuration.resolvedPlatformURL + "/registry/register"),
            ])
            return try JSONResponse.object(answer, status: .created)
        }
        return try JSONResponse.make(workspace, status: .created)
    }

    @Sendable func patch(_ request: Request, _ context: HostRequestContext) async throws -> Response {
        let id = try await host.workspace(context, request).id
        let body = try await request.json(PatchWorkspaceBody.self, limit: host.configuration.maxBodyBytes)
        // The principal rule: what runs (tier, config: command, env, image, runtime options) is the admin's to change.
        if case .workspace = context.principal, let field = body.fieldsNeedingAdmin.first {
            throw APIError.forbidden("\"\(field)\" decides what the workspace runs; only the admin token may change it")
        }
        guard let updated = try await host.store.update(id, name: body.name, role: body.role, tier: body.tier, config: body.config) else {
            throw APIError.notFound("workspace \(id.uuidString.lowercased()) not found")
        }
        return try JSONResponse.make(updated)
    }

    @Sendable func delete(_ request: Request, _ context: HostRequestContext) async throws -> Response {
        let workspace = try await host.workspace(context, request)
        do {
            try await host.lifecycle.delete(workspace, purge: try request.flag("purge"))
        } catch DispatchError.providerNotLoaded(let provider) {
            throw APIError.fromDispatch(.providerNotLoaded(provider: provider))
        } catch let error as DispatchError {
            // Never a silent "removed" with a live instance: the row keeps its status and the caller sees why.
            throw APIError(
                .internalServerError, "stop_failed", "workspace was not removed: \(error)",
                extra: ["stop_failures": .array([.string(error.description)])]
            )
        }
        return try JSONResponse.object(["status": "removed", "id": .string(workspace.id.uuidString.lowercased())])
    }

    @Sendable func restart(_ request: Request, _ context: HostRequestContext) async throws -> Response {
        let workspace = try await host.workspace(context, request)
        if workspace.isExternal {
            return try JSONResponse.object(["status": "noop", "message": "external workspaces run elsewhere; nothing to restart"])
        }
        guard try await host.lifecycle.restart(workspace) else {
            throw APIError(
                .conflict, "conflict", "workspace \(workspace.id.uuidString.lowercased()) cannot restart from status \(workspace.status.rawValue)")
        }
        return try JSONResponse.object(["status": "restarting", "id": .string(workspace.id.uuidString.lowercased())], status: .accepted)
    }
}
