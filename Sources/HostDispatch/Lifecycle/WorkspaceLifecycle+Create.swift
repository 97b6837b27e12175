import Foundation
import HostStore
import ProviderWire

extension WorkspaceLifecycle {
    /// What a create asks for (already checked for shape by the HTTP layer).
    public struct CreateRequest: Sendable {
        public var name: String
        public var role: String?
        public var tier: Int
        public var runtime: String
        public var provider: String?
        public var parentId: UUID?
        public var config: JSONValue
        public var snapshotId: String?
        /// An agent that registers (default), or a plain command that only runs.
        public var agent: Bool
        /// The template whose files seed the workspace's files root before its first start.
        public var template: String?

        public init(
            name: String, role: String?, tier: Int, runtime: String, provider: String?, parentId: UUID?, config: JSONValue, snapshotId: String?,
            agent: Bool = true, template: String? = nil
        ) {
            self.agent = agent
            self.template = template
            self.name = name
            self.role = role
            self.tier = tier
            self.runtime = runtime
            self.provider = provider
            self.parentId = parentId
            self.config = config
            self.snapshotId = snapshotId
        }

        /// An external workspace's agent runs elsewhere and registers itself: no provider is called.
        public var isExternal: Bool { runtime == "external" }
    }

    /// What a create answers: the row as it stands, and for an external workspace the token its agent registers with.
    public struct Created: Sendable {
        public var workspace: Workspace
        public var externalToken: String?
    }

    /// Why a create was refused before anything was written.
    public enum CreateError: Error, Sendable, CustomStringConvertible {
        case parentNotFound(UUID)
        case template(TemplateLibrary.TemplateError)
        case commandRequired

        public var description: String {
            switch self {
            case .parentNotFound(let id): "parent_id \(id.uuidString.lowercased()) does not exist"
            case .template(let error): error.description
            case .commandRequired: "a workspace with \"agent\": false runs a plain command: give it config.command"
            }
        }
    }

    /// Creates a workspace: the row (provisioning, or awaiting_agent when external), its created event, then a
    /// background provision. A provider chosen by configuration but refused at load fails the row with the reason
    /// rather than provisioning nowhere.
    public func create(_ request: CreateRequest) async throws -> Created {
        if let parent = request.parentId, try await store.get(parent) == nil { throw CreateError.parentNotFound(parent) }
        if let template = request.template {
            do { _ = try templates.check(template) } catch { throw CreateError.template(error) }
        }
        if !request.agent && !request.isExternal, request.config["command"] == nil { throw CreateError.commandRequired }
        let provider = request.isExternal ? "external" : try providers.choose(requested: request.provider)
        let workspace = try await store.insert(
            .init(
                id: UUID(), name: request.name, role: request.role, tier: request.tier, runtime: request.runtime, provider: provider,
                status: request.isExternal ? .awaitingAgent : .provisioning, parentId: request.parentId, config: request.config,
                agent: request.agent || request.isExternal, template: request.template
            )
        )
        await record("WORKSPACE_CREATED", workspace.id, ["provider": .string(provider), "runtime": .string(request.runtime)])
        if request.isExternal {
            return Created(workspace: workspace, externalToken: try await tokens.rotate(workspace.id))
        }
        if !providers.isLoaded(provider) {
            try await apply(
                .provisionFailed, to: workspace.id, message: FailureMessage(DispatchError.providerNotLoaded(provider: provider).description))
        } else {
            provision(workspace, snapshotId: request.snapshotId)
        }
        return Created(workspace: try await store.get(workspace.id) ?? workspace, externalToken: nil)
    }
}
