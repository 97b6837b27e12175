import Foundation
import HostDispatch
import HostStore
import Hummingbird
import NIOCore
import Prometheus
import ProviderWire

/// Health, build info, metrics, the OpenAPI document, events and admin routes.
struct SystemRoutes: Sendable {
    let host: HostContext

    func register(_ routes: RouteTable) {
        routes.add(.get, "/health", .open) { _, _ in try JSONResponse.object(["status": "ok"]) }
        routes.add(.get, "/buildinfo", .open) { _, _ in
            try JSONResponse.object([
                "git_sha": .string(ProcessInfo.processInfo.environment["MOLECULE_GIT_SHA"] ?? "dev"), "version": "0.1.0",
                "provider_abi": .number(1),
            ])
        }
        routes.add(.get, "/metrics", .open) { _, _ in
            let text = host.metrics.emitToString()
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        routes.add(.get, "/openapi.yaml", .open) { _, _ in
            guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"), let text = try? String(contentsOf: url, encoding: .utf8)
            else { throw APIError(.internalServerError, "internal", "the OpenAPI document is missing from the Host's resources") }
            return Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        // The templates a create may name (`template`), from the configured templates_dir.
        routes.add(.get, "/templates", .admin) { _, _ in try JSONResponse.make(host.lifecycle.templates.list()) }
        routes.add(.get, "/events", .admin) { request, _ in
            try JSONResponse.make(
                try await host.events.list(workspaceId: nil, afterId: try after(request), limit: limit(request)))
        }
        routes.add(.get, "/events/{id}", .admin) { request, context in
            try JSONResponse.make(
                try await host.events.list(
                    workspaceId: try context.workspaceId(), afterId: try after(request), limit: limit(request))
            )
        }
        routes.add(.get, "/admin/providers", .admin) { _, _ in
            let providers = try host.lifecycle.providers.summaries.map { try WireCoding.decode(JSONValue.self, from: WireCoding.encode($0)) }
            return try JSONResponse.object([
                "default_provider": host.lifecycle.providers.defaultProvider.map(JSONValue.string) ?? .null,
                "allowed_providers": .array(host.lifecycle.providers.allowedProviders.map(JSONValue.string)),
                "providers": .array(providers), "refused": .array(host.lifecycle.providers.refusals.map(JSONValue.string)),
            ])
        }
        // Hot reload: the new library loads in a fresh runner (or instance) beside the old, then takes new calls.
        routes.add(.post, "/admin/providers/{name}/reload", .admin) { request, context in
            struct Body: Decodable { var path: String? }
            let bytes = try await request.bytes(limit: host.configuration.maxBodyBytes)
            let body: Body
            do { body = bytes.isEmpty ? Body() : try WireCoding.decode(Body.self, from: bytes) } catch {
                throw APIError.badRequest("request body: \(DecodingErrorText.describe(error))")
            }
            guard let name = context.parameters.get("name") else { throw APIError.badRequest("provider name missing") }
            guard host.lifecycle.providers.isLoaded(name) else { throw APIError.notFound("no provider named \"\(name)\" is loaded on this Host") }
            let summary = try await host.lifecycle.providers.reload(provider: name, path: body.path)
            return try JSONResponse.make(summary)
        }
        routes.add(.get, "/admin/workspaces/{id}/test-token", .admin) { request, context in
            guard host.configuration.testTokensEnabled else { throw APIError.notFound("not found") }
            let workspace = try await host.workspace(context, request)
            return try JSONResponse.object(["auth_token": .string(try await host.tokens.issue(workspace.id))])
        }
    }

    func after(_ request: Request) throws -> Int {
        let after = Int(request.query("after") ?? "0") ?? -1
        guard after >= 0 else { throw APIError.badRequest("after must be an event id (a whole number, 0 or more)") }
        return after
    }

    func limit(_ request: Request) throws -> Int {
        let limit = Int(request.query("limit") ?? "100") ?? 0
        guard (1...1000).contains(limit) else { throw APIError.badRequest("limit must be between 1 and 1000") }
        return limit
    }
}
