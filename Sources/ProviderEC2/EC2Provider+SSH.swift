import Foundation
import ProviderKit
import ProviderWire

/// Reaching an instance over SSH: key (ephemeral + Instance Connect, or static), connect, host-key check, auth.
extension EC2Provider {
    /// Who a remote script runs as. Inside the files root everything runs as the agent (`plugin_uid`, through
    /// `sudo -n -u`), so a link the workload planted there can never make the provider write as root; only creating
    /// the root itself is privileged.
    enum RemoteIdentity {
        case agent
        case administrator
    }

    /// Where to dial: the configured override, else the instance's private or public address. An instance without
    /// one is UNAVAILABLE (it is still booting, or has no public address).
    func sshEndpoint(for instance: EC2Instance) throws(ProviderError) -> (host: String, port: Int) {
        if let override = config.ssh.override, let parts = SSHConfiguration.split(override) { return parts }
        guard let host = address(of: instance) else {
            throw .unavailable("instance \(instance.id) has no \(config.ssh.address) address yet")
        }
        return (host, config.ssh.port)
    }

    /// The key for one connection: a fresh ed25519 key (Instance Connect) or the configured file.
    func makeKey() throws(ProviderError) -> SSHKey {
        switch config.ssh.mode {
        case .instanceConnect: try SSHKey.generateEd25519()
        case .staticKey: try SSHKey.load(path: config.ssh.keyPath ?? "")
        }
    }

    /// EC2 Instance Connect: the instance accepts `key` for `ssh.user` for the next 60 seconds.
    func sendPublicKey(_ key: SSHKey, to instance: EC2Instance, context: CallContext) throws(ProviderError) {
        var body: [String: JSONValue] = [
            "InstanceId": .string(instance.id), "InstanceOSUser": .string(config.ssh.user), "SSHPublicKey": .string(try key.publicKeyLine()),
        ]
        if let zone = instance.availabilityZone { body["AvailabilityZone"] = .string(zone) }
        let answer = try client.callJSON(
            service: "ec2-instance-connect", target: "AWSEC2InstanceConnectService.SendSSHPublicKey", .object(body), context: context
        )
        if answer?["Success"] == .bool(false) { throw .unauthenticated("SendSSHPublicKey for \(instance.id) answered Success=false") }
    }

    /// TCP + key exchange, then the host-key check (pinned or trust-on-first-use). Never skips the check.
    func connect(to instance: EC2Instance, context: CallContext) throws(ProviderError) -> SSHSession {
        let endpoint = try sshEndpoint(for: instance)
        let session = try SSHSession(
            host: endpoint.host, port: endpoint.port, user: config.ssh.user, timeoutMs: config.ssh.connectTimeoutMs, context: context
        )
        try hostKeys.verify(try session.hostKeyFingerprint(), instanceId: instance.id, target: session.target)
        return session
    }

    /// An authenticated session to the instance.
    func openSession(_ instance: EC2Instance, context: CallContext) throws(ProviderError) -> SSHSession {
        let key = try makeKey()
        if config.ssh.mode == .instanceConnect { try sendPublicKey(key, to: instance, context: context) }
        let session = try connect(to: instance, context: context)
        try session.authenticate(with: key)
        return session
    }

    /// The workspace's running instance: NOT_FOUND without one, CONFLICT while it is paused or starting.
    func runningInstance(_ workspaceId: String, context: CallContext) throws(ProviderError) -> EC2Instance {
        try Self.validate(workspaceId)
        if let cached = runningInstances.get(workspaceId) { return cached }
        guard let instance = try instances(of: workspaceId, context: context).first(where: \.isLive) else {
            throw .notFound("workspace \(workspaceId) has no instance (its files are reachable while it runs)")
        }
        guard instance.state == "running" else {
            throw .conflict("instance \(instance.id) of workspace \(workspaceId) is \(instance.state); its files are reachable while it runs")
        }
        runningInstances.put(instance, for: workspaceId)
        return instance
    }

    /// Runs `body` with an authenticated session (reused when one is idle) to the workspace's instance and its files
    /// root. A writing script that finds no root (`exit 48`, before reading its input) gets it created — privileged,
    /// then given to the agent's uid — and runs once more.
    func withFiles<T>(_ workspaceId: String, context: CallContext, _ body: (SSHSession, _ root: String) throws -> T) throws -> T {
        let instance = try runningInstance(workspaceId, context: context)
        let root = root(runtime: instance.tags[EC2Tag.runtime], workspaceId: workspaceId)
        var session: SSHSession
        var pooled = false
        do {
            if let idle = sessions.take(instance.id) {
                session = idle
                pooled = true
            } else {
                session = try openSession(instance, context: context)
            }
        } catch {
            runningInstances.forget(workspaceId)
            throw error
        }
        do {
            // A pooled connection that died while idle fails before any command runs: retried once on a new one.
            if pooled, !session.canOpenChannels {
                session = try openSession(instance, context: context)
            }
            let result = try Self.creatingRoot(prepare: { try prepareRoot(session, root: root, context: context) }) { try body(session, root) }
            sessions.give(session, instanceId: instance.id)
            return result
        } catch let error where !Self.isConnectionFailure(error) {
            // The command answered (not found, refused by the policy, …): the connection itself is fine to reuse.
            sessions.give(session, instanceId: instance.id)
            throw error
        } catch {
            runningInstances.forget(workspaceId)
            throw error
        }
    }

    /// Runs a POSIX shell script as `identity` after a prelude (`set -eu`, `ROOT`, `U`, ``FilePolicy/shellFunctions``,
    /// and `own`, which hands a path to the agent's uid when running as root, never following links). A
    /// ``FilePolicy`` gate's exit is that policy's refusal for `policy`'s operation and path; a
    /// ``RemoteScriptError/Reason`` exit is that error; any other failure is INTERNAL with the remote stderr.
    @discardableResult
    func execute(
        _ session: SSHSession, root: String, _ script: String, stdin: [UInt8] = [], what: String, as identity: RemoteIdentity = .agent,
        policy: (operation: FilePolicy.Operation, path: RelativePath)? = nil, context: CallContext
    ) throws -> SSHSession.Outcome {
        let prelude = """
            set -eu; umask 022; cd /; ROOT=\(root.shellQuoted); U=\(config.pluginUid)
            own() { [ "$(id -u)" != 0 ] || chown -h "$@"; }
            \(FilePolicy.shellFunctions)
            """
        let full = (prelude + script).shellQuoted
        let command: String
        switch (config.ssh.sudo, identity) {
        case (true, .agent): command = "sudo -n -u '#\(config.pluginUid)' sh -c \(full)"
        case (true, .administrator): command = "sudo -n sh -c \(full)"
        case (false, _): command = "sh -c \(full)"
        }
        let outcome = try session.run(command, stdin: stdin, timeoutMs: config.ssh.commandTimeoutMs, context: context)
        if outcome.exitStatus == 0 { return outcome }
        if let policy, let observed = FilePolicy.observation(exitStatus: outcome.exitStatus, output: outcome.stdout) {
            try FilePolicy.check(policy.operation, observed, path: policy.path)
        }
        if let reason = RemoteScriptError.Reason(rawValue: outcome.exitStatus) { throw RemoteScriptError(reason: reason, what: what) }
        throw ProviderError.internal(
            "\(what) on \(session.target) failed (exit \(outcome.exitStatus)): \(outcome.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
    }

    /// Runs `attempt`; when a writing script answered that the files root does not exist (before reading its input),
    /// runs `prepare` and `attempt` once more. In steady state the root exists and this costs nothing.
    static func creatingRoot<T>(prepare: () throws -> Void, _ attempt: () throws -> T) throws -> T {
        do { return try attempt() } catch let error as RemoteScriptError where error.reason == .rootMissing {
            try prepare()
            return try attempt()
        }
    }

    /// Whether `error` says the SSH connection (or the call's time) failed, rather than the remote command answering.
    static func isConnectionFailure(_ error: any Error) -> Bool {
        guard let error = error as? ProviderError else { return false }
        return error.status == .unavailable || error.status == .deadlineExceeded
    }

    /// ``execute(_:root:_:stdin:what:as:policy:context:)`` for a writing script, creating the root when it is missing.
    func executeCreatingRoot(_ session: SSHSession, root: String, _ script: String, stdin: [UInt8], what: String, context: CallContext) throws {
        _ = try Self.creatingRoot(prepare: { try prepareRoot(session, root: root, context: context) }) {
            try execute(session, root: root, script, stdin: stdin, what: what, context: context)
        }
    }

    /// Creates the files root when missing and gives it to the agent's uid (the bootstrap does the same after mounting).
    /// Where instances run the bootstrap, a missing root means the configs volume is not mounted yet: UNAVAILABLE,
    /// never a root created on the instance's own disk.
    func prepareRoot(_ session: SSHSession, root: String, context: CallContext) throws {
        let mounted =
            config.waitForBootstrap ? "[ -e \"$ROOT/\(UserData.mountedMarker)\" ] || exit \(RemoteScriptError.Reason.notBootstrapped.rawValue)\n" : ""
        let script = mounted + #"[ -d "$ROOT" ] || mkdir -p -- "$ROOT"; own "$U:$U" "$ROOT""#
        try execute(session, root: root, script, what: "prepare the files root", as: .administrator, context: context)
    }

    /// An authenticated session once the instance answers SSH, retried within the boot timeout (a new instance boots).
    func openSessionWhenReachable(_ instance: EC2Instance, context: CallContext) throws(ProviderError) -> SSHSession {
        var last: ProviderError?
        let session = try pollBackend(context) { () throws(ProviderError) -> SSHSession? in
            do throws(ProviderError) {
                return try openSession(instance, context: context)
            } catch  where error.status == .unavailable {
                last = error  // still booting: asked again after the poll interval
                return nil
            }
        }
        if let session { return session }
        try context.checkDeadline("waiting for SSH on \(instance.id)\(last.map { ": \($0.message)" } ?? "")")
        throw last ?? .unavailable("instance \(instance.id) did not answer SSH within \(config.bootTimeoutMs) ms")
    }

    /// Writes into a new or running instance once its bootstrap mounted the configs volume: a snapshot's configs
    /// (`seed`, a tar), the workspace's environment (``EnvironmentFile``) and, last, its token (`<root>/.auth_token`) —
    /// the bootstrap starts the container once the token is there. Both files are 0600 and the agent's; neither ever
    /// travels in user-data.
    func deliver(
        seed: [UInt8]?, environmentFile: String?, token: String?, to instance: EC2Instance, runtime: String?, workspaceId: String,
        context: CallContext
    ) throws {
        let session = try openSessionWhenReachable(instance, context: context)
        let root = root(runtime: runtime, workspaceId: workspaceId)
        if config.waitForBootstrap {
            let seconds = max(1, min(config.bootTimeoutMs, context.remainingMilliseconds, config.ssh.commandTimeoutMs - 1000) / 1000)
            let wait =
                "for i in $(seq 1 \(seconds)); do [ -e \"$ROOT/\(UserData.mountedMarker)\" ] && exit 0; sleep 1; done; exit \(RemoteScriptError.Reason.notBootstrapped.rawValue)"
            try execute(session, root: root, wait, what: "wait for the bootstrap", as: .administrator, context: context)
        }
        if let seed {
            let script =
                "[ -d \"$ROOT\" ] || exit \(RemoteScriptError.Reason.rootMissing.rawValue)\n"
                + #"tar -xf - --no-same-owner -C "$ROOT"; [ "$(id -u)" != 0 ] || chown -h -R "$U:$U" "$ROOT""#
            try executeCreatingRoot(session, root: root, script, stdin: seed, what: "restore the configs", context: context)
        }
        for (name, content) in [(EnvironmentFile.name, environmentFile), (AgentEnvironment.tokenFileName, token)] {
            guard let content else { continue }
            let script = """
                [ -d "$ROOT" ] || exit \(RemoteScriptError.Reason.rootMissing.rawValue)
                T=$(mktemp -- "$ROOT/\(name).XXXXXX"); cat > "$T"; chmod 600 "$T"; own "$U:$U" "$T"
                mv -f -- "$T" "$ROOT/\(name)"
                """
            try executeCreatingRoot(session, root: root, script, stdin: Array(content.utf8), what: "write \(name)", context: context)
        }
        sessions.give(session, instanceId: instance.id)
    }
}
