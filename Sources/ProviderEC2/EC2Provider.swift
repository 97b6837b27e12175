import Foundation
import ProviderABI
import ProviderKit
import ProviderWire

/// Workspaces as EC2 instances: the EC2 Query API (SigV4, libcurl) for their lifecycle, SSH (libssh) for their files.
///
/// Ownership: every instance, volume and image carries `molecule:workspace-id`, `molecule:owner`, `molecule:managed`.
/// A workspace's configs live on its own EBS volume (`molecule:role=configs`) mounted at the runtime's root, so `stop`
/// (TerminateInstances) keeps them and `remove_storage` deletes them — the same contract as the Docker provider.
final class EC2Provider: WorkspaceProvider, Sendable {
    static let name = "ec2"
    static let version = "1.0.0"
    static let features: [ProviderFeature] = [.seedArchive]
    static let summary = "Workspaces as EC2 instances (Query API with SigV4 via libcurl; files and plugins over SSH via libssh)"

    let config: EC2Configuration
    let client: EC2Client
    let hostKeys: HostKeyStore
    let sessions: SSHSessionPool
    let runningInstances: RunningInstanceCache

    init(configuration: ProviderConfiguration) throws {
        config = try configuration.decode(EC2Configuration.self, provider: Self.name)
        client = EC2Client(
            endpoint: config.endpoint, instanceConnectEndpoint: config.instanceConnectEndpoint, region: config.region,
            credentials: config.credentials, retry: config.retry
        )
        let policy: HostKeyPolicy = config.ssh.hostKeySha256.map(HostKeyPolicy.pinned) ?? .trustOnFirstUse
        hostKeys = HostKeyStore(directory: URL(fileURLWithPath: config.stateDir).appendingPathComponent("host-keys"), policy: policy)
        sessions = SSHSessionPool(idleLimitMs: config.ssh.idleSessionMs)
        runningInstances = RunningInstanceCache(ttlMs: config.ssh.idleSessionMs == 0 ? 0 : 5000)
    }

    // MARK: Names and tags

    /// Workspace ids become tag values, client tokens and (through `{workspace_id}` root templates) path components.
    static func validate(_ workspaceId: String) throws(ProviderError) { try Identifier.validateWorkspaceId(workspaceId) }

    func tags(_ workspaceId: String, extra: [String: String] = [:]) -> [String: String] {
        [EC2Tag.workspaceId: workspaceId, EC2Tag.owner: config.owner, EC2Tag.managed: "true"].merging(extra) { _, new in new }
    }

    /// `TagSpecification.N` parameters for `resource` types, tags in key order.
    static func tagSpecification(_ index: Int, _ resource: String, _ tags: [String: String]) -> EC2Client.Parameters {
        [("TagSpecification.\(index).ResourceType", resource)]
            + tags.sorted(by: { $0.key < $1.key }).enumerated().flatMap { position, tag in
                [("TagSpecification.\(index).Tag.\(position + 1).Key", tag.key), ("TagSpecification.\(index).Tag.\(position + 1).Value", tag.value)]
            }
    }

    // MARK: Waiting

    /// When a wait for the backend (boot, volume release, image) gives up, whatever the call's deadline.
    func bootLimit() -> UInt64 { MonotonicClock.now() + UInt64(config.bootTimeoutMs) * 1_000_000 }

    /// Polls the backend every `poll_interval_ms` until `attempt` answers, the boot timeout or the call's deadline
    /// (``Poll``); `nil` when time ran out.
    func pollBackend<T>(_ context: CallContext, _ attempt: () throws(ProviderError) -> T?) throws(ProviderError) -> T? {
        let interval = Duration.milliseconds(config.pollIntervalMs)
        return try Poll.until(context, limit: bootLimit(), initialDelay: interval, maxDelay: interval, attempt)
    }

    /// `Filter.N` parameters: tag filters for the owner (and workspace), plus any extra filters.
    func filters(workspaceId: String?, owner: String? = nil, extra: [(String, [String])] = []) -> EC2Client.Parameters {
        var all: [(String, [String])] = [("tag:\(EC2Tag.owner)", [owner ?? config.owner]), ("tag:\(EC2Tag.managed)", ["true"])]
        if let workspaceId { all.append(("tag:\(EC2Tag.workspaceId)", [workspaceId])) }
        all += extra
        var parameters: EC2Client.Parameters = []
        for (index, filter) in all.enumerated() {
            parameters.append(("Filter.\(index + 1).Name", filter.0))
            for (position, value) in filter.1.enumerated() { parameters.append(("Filter.\(index + 1).Value.\(position + 1)", value)) }
        }
        return parameters
    }

    /// The files root on the instance for a runtime.
    func root(runtime: String?, workspaceId: String) -> String {
        let template = config.roots[runtime ?? "default"] ?? config.roots["default"] ?? "/configs"
        return template.replacingOccurrences(of: "{workspace_id}", with: workspaceId)
    }

    // MARK: Lookups

    /// Every instance of the workspace that is not terminated, best first (a running one answers for it).
    func instances(of workspaceId: String, context: CallContext) throws(ProviderError) -> [EC2Instance] {
        let states = ["pending", "running", "stopping", "stopped", "shutting-down"]
        let document = try client.call(
            "DescribeInstances", filters(workspaceId: workspaceId, extra: [("instance-state-name", states)]), context: context)
        return EC2Instance.all(in: document).filter { $0.tags[EC2Tag.workspaceId] == workspaceId }.sorted { $0.preference < $1.preference }
    }

    /// The workspace's configs volume, if it has one.
    func configsVolume(of workspaceId: String, context: CallContext) throws(ProviderError) -> EC2Volume? {
        let document = try client.call(
            "DescribeVolumes", filters(workspaceId: workspaceId, extra: [("tag:\(EC2Tag.role)", ["configs"])]), context: context)
        return document.items("volumeSet").compactMap(EC2Volume.init).first { !["deleting", "deleted", "error"].contains($0.state) }
    }

    /// Polls `DescribeInstances` until the instance reaches `state`, bounded by the boot timeout and the deadline.
    func waitForInstance(_ id: String, state wanted: String, context: CallContext) throws(ProviderError) -> EC2Instance {
        var last = "unknown"
        let reached = try pollBackend(context) { () throws(ProviderError) -> EC2Instance? in
            do throws(ProviderError) {
                let document = try client.call("DescribeInstances", [("InstanceId.1", id)], context: context)
                guard let instance = EC2Instance.all(in: document).first else { return nil }
                if instance.state == wanted { return instance }
                if ["shutting-down", "terminated"].contains(instance.state) && wanted != "terminated" {
                    throw .internal("instance \(id) went \(instance.state) while waiting for \(wanted)")
                }
                last = instance.state
            } catch let error where error.status == .notFound {
                last = "not yet visible"  // EC2 is eventually consistent right after RunInstances.
            }
            return nil
        }
        if let reached { return reached }
        try context.checkDeadline("waiting for \(id) to be \(wanted) (it is \(last))")
        throw .deadlineExceeded("instance \(id) did not become \(wanted) within \(config.bootTimeoutMs) ms (last \(last))")
    }

    // MARK: Core verbs

    func describe(context: CallContext) throws -> DescribeResponse {
        let zones = try client.call("DescribeAvailabilityZones", context: context).items("availabilityZoneInfo").count
        return DescribeResponse(name: Self.name, version: Self.version, backend: "endpoint=\(config.endpoint) region=\(config.region) zones=\(zones)")
    }

    func provision(_ request: ProvisionRequest, context: CallContext) throws -> ProvisionResponse {
        try Self.validate(request.workspaceId)
        if let existing = try instances(of: request.workspaceId, context: context).first(where: \.isLive) {
            // Idempotent: the live instance answers, and receives the token this request carries.
            if let token = request.token, existing.state == "running" {
                try deliver(
                    seed: nil, environmentFile: nil, token: token, to: existing, runtime: request.runtime, workspaceId: request.workspaceId,
                    context: context
                )
            }
            return ProvisionResponse(instanceRef: existing.id, state: existing.instanceState, address: address(of: existing))
        }
        // A template's files go in before the token, so before the bootstrap starts the agent.
        let seed = try request.seedEntries().map { TarArchive(entries: $0).serialized() }
        var started = try launch(request, ami: try ami(for: request), seed: seed, context: context)
        if seed != nil { started.seeded = true }
        return started
    }

    /// The port the agent listens on in an instance (host networking: the instance's own address and port space).
    static let agentPort = 8000

    /// The AMI: a request `image` that names one, else the configured one.
    func ami(for request: ProvisionRequest) throws(ProviderError) -> String {
        if let image = request.image, image.hasPrefix("ami-") { return image }
        if let ami = request.options?["ami"]?.stringValue { return ami }
        guard let ami = config.ami else { throw .invalidArgument("no AMI: set \"ami\" in the ec2 provider configuration") }
        return ami
    }

    /// Creates (or reuses) the configs volume, runs the instance, waits for it, attaches the volume and seeds it. If
    /// any step after RunInstances fails the new instance is terminated: a failed provision leaves nothing running.
    func launch(_ request: ProvisionRequest, ami: String, seed: [UInt8]?, context: CallContext) throws -> ProvisionResponse {
        let workspaceId = request.workspaceId
        runningInstances.forget(workspaceId)
        let volume = try configsVolume(of: workspaceId, context: context) ?? createConfigsVolume(workspaceId, context: context)
        let runtimeImage = request.image.flatMap { $0.hasPrefix("ami-") ? nil : $0 } ?? config.runtimeImage
        // The identity (no secret) goes into user-data; everything else only in the env file delivered over SSH.
        let identity = AgentEnvironment.identity(workspaceId: workspaceId, filesRoot: "/configs")
        let environment = AgentEnvironment(request: request).variables(filesRoot: "/configs").filter { identity[$0.key] == nil }
        let environmentFile = try EnvironmentFile.render(environment)  // refused before anything is launched
        let delivery = environment.isEmpty ? nil : environmentFile
        let userData = try UserData(
            workspaceId: workspaceId, root: root(runtime: request.runtime, workspaceId: workspaceId), volumeId: volume.id,
            device: config.configsDevice, runtimeImage: runtimeImage, command: request.command,
            uid: config.pluginUid, bootTimeoutSeconds: config.bootTimeoutMs / 1000
        ).rendered()
        var parameters: EC2Client.Parameters = [
            ("ImageId", ami), ("InstanceType", request.tier.flatMap { config.tiers[String($0)] } ?? config.instanceType),
            ("MinCount", "1"), ("MaxCount", "1"), ("UserData", Data(userData.utf8).base64EncodedString()),
            ("InstanceInitiatedShutdownBehavior", "terminate"),
            // IMDSv2 only: the instance's credentials are not one unauthenticated GET away from the workload.
            ("MetadataOptions.HttpTokens", "required"), ("MetadataOptions.HttpEndpoint", "enabled"),
        ]
        var instanceTags = tags(workspaceId, extra: ["Name": "ws-\(workspaceId.prefix(12))"])
        if let runtime = request.runtime { instanceTags[EC2Tag.runtime] = runtime }
        parameters += Self.tagSpecification(1, "instance", instanceTags) + Self.tagSpecification(2, "volume", tags(workspaceId))
        if let subnet = config.subnetId {
            parameters.append(("SubnetId", subnet))
        } else if let zone = volume.availabilityZone {
            parameters.append(("Placement.AvailabilityZone", zone))
        }
        for (index, group) in config.securityGroupIds.enumerated() { parameters.append(("SecurityGroupId.\(index + 1)", group)) }
        if let key = config.keyName { parameters.append(("KeyName", key)) }
        if let profile = config.iamInstanceProfile { parameters.append(("IamInstanceProfile.Name", profile)) }
        if config.hibernate { parameters.append(("HibernationOptions.Configured", "true")) }
        let instance = try runInstance(parameters, workspaceId: workspaceId, context: context)
        do {
            let running = try waitForInstance(instance.id, state: "running", context: context)
            try attach(volume, to: running, context: context)
            // The agent's address is the instance's own, known now: it joins the environment file.
            let network = AgentEnvironment.Network(address: address(of: running) ?? "127.0.0.1", port: Self.agentPort)
            let networked = try EnvironmentFile.render(environment.merging(network.variables) { _, own in own })
            if seed != nil || delivery != nil || request.token != nil {
                try deliver(
                    seed: seed, environmentFile: networked, token: request.token, to: running, runtime: request.runtime, workspaceId: workspaceId,
                    context: context
                )
            }
            HostServices.current?.emitEvent(type: "instance.started", workspaceId: workspaceId, detail: ["ref": running.id])
            return ProvisionResponse(instanceRef: running.id, state: .running, address: address(of: running))
        } catch {
            context.log(.warning, "provision of \(workspaceId) failed after RunInstances (\(error)); terminating \(instance.id)")
            _ = try? client.call("TerminateInstances", [("InstanceId.1", instance.id)], context: .direct(.stop))
            throw error
        }
    }

    /// RunInstances with a `ClientToken` derived from the workspace id and a generation, so a retried call never starts
    /// a second instance. A generation is used up once its instance terminated (EC2 answers that instance again) or
    /// once it launched with other parameters (`IdempotentParameterMismatch`); a live instance under the token is
    /// adopted. The walk starts after the generations still visible as terminated and is bounded.
    func runInstance(_ parameters: EC2Client.Parameters, workspaceId: String, context: CallContext) throws(ProviderError) -> EC2Instance {
        let terminated = try client.call(
            "DescribeInstances", filters(workspaceId: workspaceId, extra: [("instance-state-name", ["terminated"])]), context: context
        )
        // After the highest generation seen on a terminated instance (its ClientToken), and at least their count.
        let previous = EC2Instance.all(in: terminated)
        let highest = previous.compactMap { $0.clientToken.flatMap(Self.generation(of:)) }.max() ?? -1
        let first = max(previous.count, highest + 1)
        for generation in first..<(first + 64) {
            let token = Self.clientToken(workspaceId: workspaceId, owner: config.owner, generation: generation)
            let document: XMLNode
            do throws(EC2Error) {
                // Never cut off by the caller's deadline: EC2 goes on with a RunInstances whose answer was abandoned, and
                // the instance would run with nobody to terminate it. Bounded on its own; the caller's cancellation is
                // honoured by the next step, whose failure terminates the instance.
                document = try client.attempt("RunInstances", parameters + [("ClientToken", token)], context: context.detached())
            } catch  where error.failure.reason == .idempotentParameterMismatch {
                let holder = try client.call("DescribeInstances", [("Filter.1.Name", "client-token"), ("Filter.1.Value.1", token)], context: context)
                if let live = EC2Instance.all(in: holder).first(where: \.isLive) { return live }
                continue
            } catch {
                throw error.providerError
            }
            guard let instance = EC2Instance.all(in: document).first else { throw .internal("RunInstances answered no instance") }
            if ["shutting-down", "terminated"].contains(instance.state) { continue }
            return instance
        }
        throw .conflict("workspace \(workspaceId): 64 client-token generations after \(first) are used up; retry later")
    }

    /// At most 64 ASCII characters, stable per (owner, workspace, generation).
    static func clientToken(workspaceId: String, owner: String, generation: Int) -> String {
        "mh-\(String(fnv1a("\(owner)/\(workspaceId)"), radix: 16))-\(workspaceId.prefix(36))-g\(generation)"
    }

    /// The generation a client token of ours carries (`…-g<n>`).
    static func generation(of token: String) -> Int? {
        guard token.hasPrefix("mh-"), let marker = token.range(of: "-g", options: .backwards) else { return nil }
        return Int(token[marker.upperBound...])
    }

    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }

    func createConfigsVolume(_ workspaceId: String, context: CallContext) throws(ProviderError) -> EC2Volume {
        let zone = try availabilityZone(context: context)
        let parameters: EC2Client.Parameters =
            [
                ("AvailabilityZone", zone), ("Size", String(config.configsVolumeGb)), ("VolumeType", "gp3"),
                // Fresh per provision: it only makes this call's own retries idempotent (a later provision finds the volume
                // by its tags; a token reused after remove_storage would answer the deleted volume).
                ("ClientToken", "mhv-\(String(Self.fnv1a(workspaceId), radix: 16))-\(UUID().uuidString.lowercased())"),
            ] + Self.tagSpecification(1, "volume", tags(workspaceId, extra: [EC2Tag.role: "configs"]))
        guard let volume = EC2Volume(try client.call("CreateVolume", parameters, context: context)) else {
            throw .internal("CreateVolume answered no volume id")
        }
        return volume
    }

    /// The zone for new volumes: configured, else the subnet's, else the region's first.
    func availabilityZone(context: CallContext) throws(ProviderError) -> String {
        if let zone = config.availabilityZone { return zone }
        if let subnet = config.subnetId {
            let document = try client.call("DescribeSubnets", [("SubnetId.1", subnet)], context: context)
            if let zone = document.items("subnetSet").first?.value("availabilityZone") { return zone }
            throw .invalidArgument("subnet \(subnet) was not found")
        }
        return config.region + "a"
    }

    /// Attaches the configs volume, waiting (bounded) while a previous instance of the workspace still holds it.
    func attach(_ volume: EC2Volume, to instance: EC2Instance, context: CallContext) throws(ProviderError) {
        var current = volume
        let attached = try pollBackend(context) { () throws(ProviderError) -> Bool? in
            if current.attachedInstance == instance.id { return true }
            if current.state == "available" {
                do throws(EC2Error) {
                    try client.attempt(
                        "AttachVolume", [("VolumeId", volume.id), ("InstanceId", instance.id), ("Device", config.configsDevice)], context: context)
                    return true
                } catch  where error.failure.reason == .incorrectState {
                    context.log(.info, "AttachVolume \(volume.id): \(error.failure.code); looking again")  // raced, or attached already
                } catch {
                    throw error.providerError
                }
            }
            let document = try client.call("DescribeVolumes", [("VolumeId.1", volume.id)], context: context)
            guard let fresh = document.items("volumeSet").compactMap(EC2Volume.init).first else { throw .notFound("volume \(volume.id) disappeared") }
            current = fresh
            return current.attachedInstance == instance.id ? true : nil
        }
        if attached == true { return }
        try context.checkDeadline("waiting for volume \(volume.id) to be released (\(current.state))")
        throw .deadlineExceeded("volume \(volume.id) stayed \(current.state) for \(config.bootTimeoutMs) ms")
    }

    func address(of instance: EC2Instance) -> String? {
        config.ssh.address == "public" ? instance.publicAddress : instance.privateAddress
    }

    func stop(_ request: WorkspaceRef, context: CallContext) throws -> StopResponse {
        try Self.validate(request.workspaceId)
        runningInstances.forget(request.workspaceId)
        let live = try instances(of: request.workspaceId, context: context).filter(\.isLive)
        guard !live.isEmpty else { return StopResponse(stopped: false) }
        // Every live instance of the workspace goes: a duplicate left by a crash is reaped with the one on record.
        let ids = live.map(\.id)
        let answer = try client.call("TerminateInstances", ids.enumerated().map { ("InstanceId.\($0.offset + 1)", $0.element) }, context: context)
        let terminated = answer.items("instancesSet").compactMap { $0.value("instanceId") }
        let missing = Set(ids).subtracting(terminated)
        guard missing.isEmpty else { throw ProviderError.internal("TerminateInstances did not confirm \(missing.sorted())") }
        for id in ids {
            hostKeys.forget(id)
            sessions.forget(id)
        }
        HostServices.current?.emitEvent(type: "instance.stopped", workspaceId: request.workspaceId, detail: ["ref": ids.joined(separator: ",")])
        return StopResponse(stopped: true)
    }

    func inspect(_ request: WorkspaceRef, context: CallContext) throws -> InspectResponse {
        try Self.validate(request.workspaceId)
        guard let instance = try instances(of: request.workspaceId, context: context).first else { return InspectResponse(state: .absent) }
        return InspectResponse(state: instance.instanceState, instanceRef: instance.id, address: address(of: instance))
    }

    func listOwned(_ request: ListOwnedRequest, context: CallContext) throws -> ListOwnedResponse {
        let owner = request.owner ?? config.owner
        var resources: [OwnedResource] = []
        let live = filters(workspaceId: nil, owner: owner, extra: [("instance-state-name", ["pending", "running", "stopping", "stopped"])])
        for instance in try client.callPaged("DescribeInstances", live, context: context).flatMap(EC2Instance.all(in:)) {
            guard let workspace = instance.tags[EC2Tag.workspaceId], instance.tags[EC2Tag.owner] == owner else { continue }
            resources.append(
                .init(
                    workspaceId: workspace, kind: .instance, ref: instance.id, owner: owner, state: instance.instanceState,
                    createdAtMs: EC2Time.milliseconds(instance.launchTime)
                ))
        }
        let volumes = try client.callPaged(
            "DescribeVolumes", filters(workspaceId: nil, owner: owner, extra: [("tag:\(EC2Tag.role)", ["configs"])]), context: context)
        for volume in volumes.flatMap({ $0.items("volumeSet") }).compactMap(EC2Volume.init) where !["deleting", "deleted"].contains(volume.state) {
            guard let workspace = volume.tags[EC2Tag.workspaceId], volume.tags[EC2Tag.owner] == owner else { continue }
            resources.append(
                .init(
                    workspaceId: workspace, kind: .storage, ref: volume.id, owner: owner, state: nil,
                    createdAtMs: EC2Time.milliseconds(volume.createTime)))
        }
        let images = try client.callPaged("DescribeImages", [("Owner.1", "self")] + filters(workspaceId: nil, owner: owner), context: context)
        for image in images.flatMap({ $0.items("imagesSet") }).compactMap(EC2Image.init) {
            guard let workspace = image.tags[EC2Tag.workspaceId], let snapshot = image.tags[EC2Tag.snapshotId], image.tags[EC2Tag.owner] == owner
            else { continue }
            resources.append(
                .init(
                    workspaceId: workspace, kind: .snapshot, ref: snapshot, owner: owner, state: nil,
                    createdAtMs: EC2Time.milliseconds(image.creationDate)))
        }
        return ListOwnedResponse(resources: resources)
    }
}

@c @implementation
public func molecule_provider_negotiate(
    _ offer: UnsafePointer<mp_host_offer>?,
    _ answer: UnsafeMutablePointer<mp_provider_answer>?
) -> Int32 {
    ProviderExport.negotiate(EC2Provider.self, offer: offer, answer: answer)
}
