import Foundation
import HostStore
import Logging
import ProviderWire

extension WorkspaceLifecycle {
    // MARK: Provision

    /// Starts provisioning in the background and returns at once (the row is already `provisioning`).
    public func provision(_ workspace: Workspace, snapshotId: String? = nil) {
        background.run { [self] in _ = await provisionSync(workspace, snapshotId: snapshotId) }
    }

    /// Provisions now: mints the workspace's token, calls the provider, records the instance — or moves the row to
    /// failed with the reason. Answers whether the provider started it.
    public func provisionSync(_ workspace: Workspace, snapshotId: String? = nil) async -> Bool {
        let log = logger.with(workspace)
        log.info("provision.start", metadata: ["provider": "\(workspace.provider)"])
        do {
            // Counted before the call and cleared by any answer: only a provision that never answered (the Host or
            // its runner died mid-call) stays counted, and recovery stops re-driving such a row after a few.
            try await store.countProvisionAttempt(workspace.id)
            let token = try await tokens.rotate(workspace.id)
            var request = provisionRequest(workspace, token: token, snapshotId: snapshotId)
            // A template's files go with the first provision only: later ones keep what the workspace made of them.
            if let template = workspace.template, !workspace.templateSeeded, snapshotId == nil {
                request.seedArchive = try templates.seedArchive(of: template)
            }
            let started: ProvisionResponse
            do { started = try await dispatcher.provision(request, on: workspace.provider, restoring: snapshotId != nil) } catch {
                try? await store.clearProvisionAttempts(workspace.id)
                throw error
            }
            try await store.clearProvisionAttempts(workspace.id)
            if request.seedArchive != nil {
                guard started.seeded == true else {
                    // Never a workspace without its template: whatever started is stopped, and the row says why.
                    try? await dispatcher.stop(workspace)
                    throw DispatchError.templateNotSeeded(provider: workspace.provider, template: workspace.template ?? "")
                }
                try await store.markTemplateSeeded(workspace.id)
            }
            try await store.setInstance(workspace.id, instanceRef: started.instanceRef, url: nil)
            if !workspace.agent {
                try await apply(.provisionedPlain, to: workspace.id, payload: ["instance_ref": .string(started.instanceRef)])
            }
            await record(
                "WORKSPACE_PROVISIONED", workspace.id, ["instance_ref": .string(started.instanceRef), "provider": .string(workspace.provider)])
            log.info("provision.done", metadata: ["instance": "\(started.instanceRef)"])
            return true
        } catch {
            let message = "provisioning failed: \(error)"
            log.error("provision.failed", metadata: ["error": "\(message)"])
            do { try await apply(.provisionFailed, to: workspace.id, message: FailureMessage(message)) } catch {
                log.error("could not record the provisioning failure", metadata: ["error": "\(error)"])
            }
            return false
        }
    }

    /// The provision request: the workspace's shape and the agent environment.
    func provisionRequest(_ workspace: Workspace, token: String, snapshotId: String?) -> ProvisionRequest {
        let config = workspace.config
        // One merge, shared with every provider (ProviderWire's AgentEnvironment): Host-owned names win over config.env.
        let env = AgentEnvironment(
            workspaceId: workspace.wireId, platformURL: platformURL, tier: workspace.tier, parentId: workspace.parentId?.uuidString.lowercased(),
            userEnvironment: AgentEnvironment.strings(in: config["env"])
        ).variables
        let command: [String]? = {
            guard case .array(let parts)? = config["command"] else { return nil }
            return parts.compactMap(\.stringValue)
        }()
        return ProvisionRequest(
            workspaceId: workspace.wireId, name: workspace.name, runtime: workspace.runtime, tier: workspace.tier,
            image: config["image"]?.stringValue,
            command: command, env: env, token: token, platformUrl: platformURL, snapshotId: snapshotId, options: config["options"]
        )
    }

    // MARK: Restart

    /// Restart: answers at once; in the background stops (bounded retry with backoff; on exhaustion logs
    /// LEAK-SUSPECT with the instance) and provisions again. Concurrent restarts of one workspace coalesce.
    /// Answers false when the workspace cannot restart (external, or its status has no restart edge).
    public func restart(_ workspace: Workspace) async throws -> Bool {
        guard !workspace.isExternal else { return false }
        guard providers.isLoaded(workspace.provider) else { throw DispatchError.providerNotLoaded(provider: workspace.provider) }
        guard try await apply(.restart, to: workspace.id) else { return false }
        // The old instance must not heartbeat the workspace back to online while it is being replaced: its token is
        // swapped now (revoked and replaced in one transaction, so the workspace is never without one), and the new
        // instance gets a fresh one at provision.
        _ = try await tokens.rotate(workspace.id)
        guard restarts.begin(workspace.id) else { return true }
        background.run { [self] in
            repeat { await restartCycle(workspace) } while restarts.again(workspace.id)
        }
        return true
    }

    func restartCycle(_ workspace: Workspace) async {
        let log = logger.with(workspace)
        var backoff = settings.restartBackoff
        var stopped = false
        for attempt in 1...settings.restartStopAttempts {
            do {
                try await dispatcher.stop(workspace)
                stopped = true
                // The old instance is gone: show no instance (rather than a stale one) until the new one is recorded.
                try? await store.setInstance(workspace.id, instanceRef: nil, url: nil)
                break
            } catch {
                log.warning("restart.stop failed", metadata: ["attempt": "\(attempt)", "error": "\(error)"])
                if attempt < settings.restartStopAttempts {
                    try? await Task.sleep(for: backoff)
                    backoff *= 2
                }
            }
        }
        if !stopped {
            log.error(
                "LEAK-SUSPECT: stop failed \(settings.restartStopAttempts) times; provisioning anyway",
                metadata: ["instance": "\(workspace.instanceRef ?? "unknown")", "provider": "\(workspace.provider)"]
            )
        }
        _ = await provisionSync(workspace)
    }
}
