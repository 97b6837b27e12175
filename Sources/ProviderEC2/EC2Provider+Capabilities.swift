import Foundation
import ProviderKit
import ProviderWire

extension EC2Provider: PausingProvider {
    /// StopInstances (with `Hibernate=true` when configured): the instance stops costing compute and keeps its disks.
    func pause(_ request: WorkspaceRef, context: CallContext) throws -> InspectResponse {
        runningInstances.forget(request.workspaceId)
        let instance = try liveInstance(request.workspaceId, verb: "pause", context: context)
        sessions.forget(instance.id)
        if !["stopping", "stopped"].contains(instance.state) {
            var parameters: EC2Client.Parameters = [("InstanceId.1", instance.id)]
            if config.hibernate { parameters.append(("Hibernate", "true")) }
            try client.call("StopInstances", parameters, context: context)
        }
        return InspectResponse(state: .paused, instanceRef: instance.id, address: address(of: instance))
    }

    /// StartInstances; a running (or starting) instance is left alone.
    func resume(_ request: WorkspaceRef, context: CallContext) throws -> InspectResponse {
        let instance = try liveInstance(request.workspaceId, verb: "resume", context: context)
        if ["stopping", "stopped"].contains(instance.state) {
            if instance.state == "stopping" { _ = try waitForInstance(instance.id, state: "stopped", context: context) }
            try client.call("StartInstances", [("InstanceId.1", instance.id)], context: context)
        }
        return InspectResponse(state: .running, instanceRef: instance.id, address: address(of: instance))
    }

    private func liveInstance(_ workspaceId: String, verb: String, context: CallContext) throws -> EC2Instance {
        try Self.validate(workspaceId)
        guard let instance = try instances(of: workspaceId, context: context).first(where: \.isLive) else {
            throw ProviderError.notFound("workspace \(workspaceId) has no instance to \(verb)")
        }
        return instance
    }
}

extension EC2Provider: SnapshottingProvider {
    /// The configs archive kept for a snapshot: `<state_dir>/snapshots/<id>.tar`.
    func archivePath(_ snapshotId: String) -> URL {
        URL(fileURLWithPath: config.stateDir).appendingPathComponent("snapshots").appendingPathComponent(snapshotId + ".tar")
    }

    /// An AMI of the machine (CreateImage, no reboot, the configs volume left out) tagged with the snapshot id, plus
    /// an archive of the configs read over SSH and kept under the state directory.
    func snapshot(_ request: WorkspaceRef, context: CallContext) throws -> SnapshotResponse {
        let instance = try runningInstance(request.workspaceId, context: context)
        let prefix = String(request.workspaceId.prefix(12).lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" })
        let snapshotId = "msnap-\(prefix)-\(Int(Date().timeIntervalSince1970 * 1000))"
        let session = try openSession(instance, context: context)
        // The token and environment are the old workspace's: never carried into another one.
        let script =
            #"[ -d "$ROOT" ] || { tar -cf - -T /dev/null; exit 0; }; tar -C "$ROOT" --ignore-failed-read --exclude=./.auth_token --exclude=./.molecule-env --exclude=./.molecule-mounted --exclude=./lost+found -cf - ."#
        let archive = try execute(
            session, root: root(runtime: instance.tags[EC2Tag.runtime], workspaceId: request.workspaceId), script, what: "archive the configs",
            context: context
        ).stdout
        let path = archivePath(snapshotId)
        do {
            try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(archive).write(to: path, options: .atomic)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path.path)
        } catch {
            throw ProviderError.unavailable("cannot keep the snapshot archive at \(path.path): \(error)")
        }
        let imageTags = tags(request.workspaceId, extra: [EC2Tag.snapshotId: snapshotId])
        let created = try client.call(
            "CreateImage",
            [
                ("InstanceId", instance.id), ("Name", "molecule-\(snapshotId)"), ("NoReboot", "true"),
                ("BlockDeviceMapping.1.DeviceName", config.configsDevice), ("BlockDeviceMapping.1.NoDevice", ""),
            ] + Self.tagSpecification(1, "image", imageTags), context: context
        )
        guard created.value("imageId") != nil else { throw ProviderError.internal("CreateImage answered no imageId") }
        return SnapshotResponse(snapshotId: snapshotId)
    }

    /// RunInstances from the snapshot's AMI with a fresh configs volume seeded from the snapshot's archive.
    func restore(_ request: ProvisionRequest, context: CallContext) throws -> ProvisionResponse {
        try Self.validate(request.workspaceId)
        guard let snapshotId = request.snapshotId else { throw ProviderError.invalidArgument("restore needs a \"snapshot_id\"") }
        try Identifier.validateSnapshotId(snapshotId)
        let images = try client.call(
            "DescribeImages", [("Owner.1", "self")] + filters(workspaceId: nil, extra: [("tag:\(EC2Tag.snapshotId)", [snapshotId])]), context: context
        )
        guard let image = images.items("imagesSet").compactMap(EC2Image.init).first(where: { $0.tags[EC2Tag.snapshotId] == snapshotId }) else {
            throw ProviderError.notFound("snapshot \(snapshotId) not found")
        }
        try waitForImage(image, context: context)
        guard let archive = try? Data(contentsOf: archivePath(snapshotId)) else {
            throw ProviderError.notFound(
                "snapshot \(snapshotId): its configs archive is not under \(config.stateDir) (taken by a Host with another state_dir?)")
        }
        if let existing = try instances(of: request.workspaceId, context: context).first(where: \.isLive) {
            throw ProviderError.conflict("workspace \(request.workspaceId) already runs \(existing.id); stop it before restoring into it")
        }
        return try launch(request, ami: image.id, seed: [UInt8](archive), context: context)
    }
}

extension EC2Provider {
    /// CreateImage returns at once and the AMI becomes `available` minutes later: wait (bounded) before launching it.
    func waitForImage(_ image: EC2Image, context: CallContext) throws(ProviderError) {
        var state = image.state
        let available = try pollBackend(context) { () throws(ProviderError) -> Bool? in
            if state == "available" { return true }
            guard state == "pending" else { throw .conflict("image \(image.id) is \(state)") }
            let document = try client.call("DescribeImages", [("ImageId.1", image.id)], context: context)
            state = document.items("imagesSet").first?.value("imageState") ?? "unknown"
            return state == "available" ? true : nil
        }
        if available == true { return }
        try context.checkDeadline("waiting for image \(image.id)")
        throw .deadlineExceeded("image \(image.id) is still \(state) after \(config.bootTimeoutMs) ms")
    }
}

extension EC2Provider: LogServingProvider {
    /// GetConsoleOutput, decoded. The cursor is the byte length already returned; a console that rotated (shorter
    /// than the cursor) is returned whole.
    func logs(_ request: LogsRequest, context: CallContext) throws -> LogsResponse {
        try Self.validate(request.workspaceId)
        guard let instance = try instances(of: request.workspaceId, context: context).first else {
            throw ProviderError.notFound("workspace \(request.workspaceId) has no instance")
        }
        let answer = try client.call("GetConsoleOutput", [("InstanceId", instance.id)], context: context)
        let bytes = answer.value("output").flatMap { Data(base64Encoded: $0, options: .ignoreUnknownCharacters) }.map { [UInt8]($0) } ?? []
        if let cursor = request.cursor {
            guard let offset = Int(cursor), offset >= 0 else { throw ProviderError.invalidArgument("cursor \"\(cursor)\" is not valid for this log") }
            let rest = offset <= bytes.count ? Array(bytes[offset...]) : bytes
            return LogsResponse(content: String(decoding: rest, as: UTF8.self), cursor: String(bytes.count))
        }
        return LogsResponse(
            content: LogTail.lastLines(of: String(decoding: bytes, as: UTF8.self), requested: request.tailLines), cursor: String(bytes.count))
    }
}

extension EC2Provider: DiagnosingProvider {
    /// The path from the Host to the workspace, stage by stage: the instance, the key, Instance Connect, TCP + host key,
    /// authentication, and a probe command.
    func diagnose(_ request: WorkspaceRef, context: CallContext) throws -> DiagnoseResponse {
        var recorder = DiagnoseRecorder()
        var instance: EC2Instance?
        var key: SSHKey?
        var session: SSHSession?
        recorder.stage("instance-found") {
            instance = try runningInstance(request.workspaceId, context: context)
            return "\(instance!.id) \(instance!.state)"
        }
        recorder.stage("keygen") {
            key = try makeKey()
            return config.ssh.mode == .instanceConnect ? "ephemeral ed25519" : "static key \(config.ssh.keyPath ?? "")"
        }
        if config.ssh.mode == .instanceConnect {
            recorder.stage("send-ssh-public-key") {
                try sendPublicKey(key!, to: instance!, context: context)
                return "accepted for \(config.ssh.user)"
            }
        }
        recorder.stage("connect") {
            session = try connect(to: instance!, context: context)
            return "\(session!.target) host key verified"
        }
        recorder.stage("auth") {
            try session!.authenticate(with: key!)
            return config.ssh.user
        }
        recorder.stage("probe") {
            let outcome = try execute(
                session!, root: root(runtime: instance!.tags[EC2Tag.runtime], workspaceId: request.workspaceId), "echo MOLECULE_PROBE_OK",
                what: "probe", context: context
            )
            guard String(decoding: outcome.stdout, as: UTF8.self).contains("MOLECULE_PROBE_OK") else {
                throw ProviderError.internal("probe answered \(String(decoding: outcome.stdout.prefix(200), as: UTF8.self))")
            }
            return "probe answered"
        }
        return recorder.response
    }
}

extension EC2Provider: StorageOwningProvider {
    /// Deletes the configs volume: CONFLICT while an instance holds it, `false` when there is none.
    func removeStorage(_ request: WorkspaceRef, context: CallContext) throws -> RemoveStorageResponse {
        try Self.validate(request.workspaceId)
        guard let volume = try configsVolume(of: request.workspaceId, context: context) else { return RemoveStorageResponse(removed: false) }
        if volume.state == "in-use" {
            let holder = volume.attachedInstance ?? "an instance"
            let live = try instances(of: request.workspaceId, context: context).contains { $0.id == holder && $0.state != "shutting-down" }
            if live { throw ProviderError.conflict("volume \(volume.id) is attached to \(holder); stop the workspace before removing its storage") }
        }
        try client.call("DeleteVolume", [("VolumeId", volume.id)], context: context)
        return RemoveStorageResponse(removed: true)
    }
}
