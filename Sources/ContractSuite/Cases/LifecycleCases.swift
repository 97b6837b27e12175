import Foundation
import ProviderHost
import ProviderWire

/// The `lifecycle` profile: identity, provision/inspect/stop, idempotency, ids, ownership and an unreachable backend.
extension ContractCatalogue {
    static let lifecycle: [ContractCase] = [
        ContractCase("describe.identity", "describe answers the manifest's name and version", profile: .lifecycle, exercises: [.describe]) { run in
            let answer: DescribeResponse = try await run.ok(.describe, [String: String]())
            try run.expect(answer.name == run.identity.manifest.name, "describe name \(answer.name) != manifest name")
            try run.expect(answer.version == run.identity.manifest.version, "describe version \(answer.version) != manifest version")
        },
        ContractCase(
            "lifecycle.basic", "provision -> inspect running -> stop -> inspect not running", profile: .lifecycle,
            exercises: [.provision, .inspect, .stop]
        ) {
            run in
            let id = run.newWorkspaceId("basic")
            let started = try await run.provision(id)
            let seen = try await run.waitForState(id, [.running], "after provision")
            try run.expect(seen.instanceRef == nil || seen.instanceRef == started.instanceRef, "inspect instance_ref differs from provision's")
            let stopped = try await run.stop(id)
            try run.expect(stopped.stopped, "stop of a running workspace answered stopped=false")
            try await run.waitForState(id, [.absent, .stopped], "after stop")
        },
        ContractCase(
            "lifecycle.repeated", "the same workspace goes up and down three times", profile: .lifecycle, exercises: [.provision, .inspect, .stop]
        ) { run in
            let id = run.newWorkspaceId("repeat")
            for round in 1...3 {
                try await run.provision(id)
                try await run.waitForState(id, [.running], "round \(round) after provision")
                _ = try await run.stop(id)
                try await run.waitForState(id, [.absent, .stopped], "round \(round) after stop")
            }
        },
        ContractCase(
            "lifecycle.interleaved", "stopping one workspace leaves another running", profile: .lifecycle, exercises: [.provision, .inspect, .stop]
        ) { run in
            let a = run.newWorkspaceId("inter-a")
            let b = run.newWorkspaceId("inter-b")
            try await run.provision(a)
            try await run.provision(b)
            _ = try await run.stop(a)
            try await run.waitForState(a, [.absent, .stopped], "A after stopping A")
            try await run.waitForState(b, [.running], "B after stopping A")
            _ = try await run.stop(b)
            try await run.waitForState(b, [.absent, .stopped], "B after stopping B")
        },
        ContractCase(
            "idempotency.provision-twice", "provisioning twice answers the same instance", profile: .lifecycle, exercises: [.provision, .listOwned]
        ) { run in
            let id = run.newWorkspaceId("twice")
            let first = try await run.provision(id)
            let second = try await run.provision(id)
            try run.expect(first.instanceRef == second.instanceRef, "second provision started \(second.instanceRef), first was \(first.instanceRef)")
            let owned: ListOwnedResponse = try await run.ok(.listOwned, ListOwnedRequest(owner: run.owner))
            let instances = owned.resources.filter { $0.workspaceId == id && $0.kind == .instance }
            try run.expect(instances.count == 1, "list_owned shows \(instances.count) instances of a workspace provisioned twice")
            _ = try await run.stop(id)
        },
        ContractCase("idempotency.stop-unknown", "stopping an unknown workspace succeeds with stopped=false", profile: .lifecycle, exercises: [.stop])
        { run in
            let answer = try await run.stop(run.newWorkspaceId("never"))
            try run.expect(!answer.stopped, "stop of an unknown workspace answered stopped=true")
        },
        ContractCase("idempotency.stop-twice", "stopping twice succeeds both times", profile: .lifecycle, exercises: [.provision, .stop]) { run in
            let id = run.newWorkspaceId("stop2")
            try await run.provision(id)
            _ = try await run.stop(id)
            let again = try await run.stop(id)
            try run.expect(!again.stopped, "second stop answered stopped=true")
        },
        ContractCase("idempotency.inspect-unknown", "inspecting an unknown workspace answers absent", profile: .lifecycle, exercises: [.inspect]) {
            run in
            let answer: InspectResponse = try await run.ok(.inspect, WorkspaceRef(workspaceId: run.newWorkspaceId("never")))
            try run.expect(answer.state == .absent, "unknown workspace inspects as \(answer.state.rawValue)")
        },
        ContractCase(
            "validation.bad-request", "a request missing workspace_id is INVALID_ARGUMENT", profile: .lifecycle, exercises: [.provision, .inspect]
        ) { run in
            try await run.expectError(.invalidArgument, .provision, ["name": "no-id"], "provision without workspace_id")
            try await run.expectError(.invalidArgument, .inspect, [String: String](), "inspect without workspace_id")
        },
        ContractCase(
            "validation.workspace-id", "workspace ids outside the shared rule (Identifier) are INVALID_ARGUMENT on provision, inspect and stop",
            profile: .lifecycle, exercises: [.provision, .inspect, .stop]
        ) { run in
            let invalid = ["", ".hidden", "../escape", "a/b", "a..b", "has space", "semi;colon", "na\u{EF}ve", String(repeating: "x", count: 129)]
            for id in invalid {
                let shown = id.count > 20 ? "\(id.prefix(8))…(\(id.count) characters)" : "\"\(id)\""
                try await run.expectError(.invalidArgument, .provision, run.provisionRequest(id), "provision of workspace id \(shown)")
                try await run.expectError(.invalidArgument, .inspect, WorkspaceRef(workspaceId: id), "inspect of workspace id \(shown)")
                try await run.expectError(.invalidArgument, .stop, WorkspaceRef(workspaceId: id), "stop of workspace id \(shown)")
            }
            // The longest valid id, with every allowed character, is an id like any other.
            let prefix = "\(run.newWorkspaceId("Valid_id.x"))-"
            let longest = prefix + String(repeating: "z", count: Identifier.maximumLength - prefix.count)
            let answer: InspectResponse = try await run.ok(.inspect, WorkspaceRef(workspaceId: longest))
            try run.expect(answer.state == .absent, "a valid unknown workspace id of 128 characters inspects as \(answer.state.rawValue)")
        },
        ContractCase(
            "burst.concurrent-7", "7 concurrent provisions all land and all stop", profile: .lifecycle, exercises: [.provision, .inspect, .stop]
        ) { run in
            let ids = (1...7).map { run.newWorkspaceId("burst\($0)") }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in ids { group.addTask { try await run.provision(id) } }
                try await group.waitForAll()
            }
            for id in ids { try await run.waitForState(id, [.running], "\(id) after the burst") }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in ids { group.addTask { _ = try await run.stop(id) } }
                try await group.waitForAll()
            }
            for id in ids { try await run.waitForState(id, [.absent, .stopped], "\(id) after stopping the burst") }
        },
        ContractCase(
            "list-owned.tracks", "list_owned shows what was created and not what was stopped", profile: .lifecycle, exercises: [.listOwned],
            requires: [.provision, .stop, .listOwned]
        ) {
            run in
            let kept = run.newWorkspaceId("owned-kept")
            let gone = run.newWorkspaceId("owned-gone")
            try await run.provision(kept)
            try await run.provision(gone)
            _ = try await run.stop(gone)
            let owned: ListOwnedResponse = try await run.ok(.listOwned, ListOwnedRequest(owner: run.owner))
            let instances = Set(owned.resources.filter { $0.kind == .instance }.map(\.workspaceId))
            try run.expect(instances.contains(kept), "list_owned lacks the running workspace \(kept)")
            try run.expect(!instances.contains(gone), "list_owned still lists the stopped workspace \(gone) as an instance")
            try run.expect(owned.resources.allSatisfy { $0.owner == run.owner }, "list_owned answered resources of another owner")
            let other: ListOwnedResponse = try await run.ok(.listOwned, ListOwnedRequest(owner: "someone-else-\(run.runId)"))
            try run.expect(!other.resources.contains { $0.workspaceId == kept }, "list_owned for another owner shows this run's workspace")
            _ = try await run.stop(kept)
        },
        ContractCase(
            "list-owned.after-restart", "a new instance of the provider (a restarted Host) finds and stops what the old one created",
            profile: .lifecycle, exercises: [.listOwned, .stop], requires: [.provision, .stop, .listOwned]
        ) { run in
            let id = run.newWorkspaceId("restart")
            try await run.provision(id)
            let restarted = try await run.makeInstance(configuration: run.providerConfiguration)
            defer { Task { await restarted.shutdown() } }
            let owned = try await restarted.call(.listOwned, ListOwnedRequest(owner: run.owner), as: ListOwnedResponse.self)
            try run.expect(owned.resources.contains { $0.workspaceId == id && $0.kind == .instance }, "the new instance's list_owned lacks \(id)")
            let stopped = try await restarted.call(.stop, WorkspaceRef(workspaceId: id), as: StopResponse.self)
            try run.expect(stopped.stopped, "the new instance could not stop what the old one started")
            try await run.waitForState(id, [.absent, .stopped], "after stop through the new instance")
        },
        ContractCase(
            "orphans.reapable", "a restarted Host can reap what list_owned shows: stop and remove_storage by workspace id empty it",
            profile: .lifecycle, exercises: [.listOwned, .stop, .removeStorage], requires: [.provision, .stop, .listOwned, .removeStorage]
        ) { run in
            let id = run.newWorkspaceId("orphan")
            try await run.provision(id)
            let restarted = try await run.makeInstance(configuration: run.providerConfiguration)
            defer { Task { await restarted.shutdown() } }
            let owned = try await restarted.call(.listOwned, ListOwnedRequest(owner: run.owner), as: ListOwnedResponse.self).resources
            let mine = owned.filter { $0.workspaceId == id }
            try run.expect(mine.contains { $0.kind == .instance }, "list_owned after a restart lacks the instance of \(id)")
            try run.expect(mine.allSatisfy { $0.createdAtMs > 0 }, "list_owned resources need a creation time for the reaper's grace period")
            _ = try await restarted.call(.stop, WorkspaceRef(workspaceId: id), as: StopResponse.self)
            _ = try await restarted.call(.removeStorage, WorkspaceRef(workspaceId: id), as: RemoveStorageResponse.self)
            let after = try await restarted.call(.listOwned, ListOwnedRequest(owner: run.owner), as: ListOwnedResponse.self).resources
            try run.expect(!after.contains { $0.workspaceId == id && $0.kind != .snapshot }, "\(id) is still listed after being reaped")
        },
        ContractCase(
            "unreachable.unavailable",
            "against an unreachable backend (the configuration's `unreachable` section), every claimed verb answers UNAVAILABLE, retryable, promptly (diagnose: a failing stage)",
            profile: .lifecycle, exercises: [.describe, .provision], requires: [.describe, .provision], tags: ["unreachable"]
        ) { run in
            guard let config = run.configuration.unreachable else {
                throw ContractFailure(
                    "the contract configuration has no \"unreachable\" section: every backend can be down, and the suite must see how the provider says so"
                )
            }
            let down = try await run.makeInstance(configuration: config)
            defer { Task { await down.shutdown() } }
            let id = run.newWorkspaceId("down")
            let tar = Data(TarArchive(entries: []).serialized()).base64EncodedString()
            let generic: JSONValue = .object([
                "workspace_id": .string(id), "path": .string("contract/x"), "name": .string("contract-plugin"), "content_base64": .string("eA=="),
                "archive_base64": .string(tar), "argv": .array([.string("true")]),
            ])
            // The session verbs after session_open address a session the provider holds, not the backend: an unknown
            // one is NOT_FOUND, down or not (the terminal profile checks that).
            let sessionVerbs: Set<Verb> = [.sessionWrite, .sessionRead, .sessionResize, .sessionClose]
            for verb in Verb.allCases where run.claims(verb) && !sessionVerbs.contains(verb) {
                let request: [UInt8] =
                    switch verb {
                    case .describe: Array("{}".utf8)
                    case .provision: try WireCoding.encode(run.provisionRequest(id))
                    case .restore: try WireCoding.encode(run.provisionRequest(id, snapshotId: "contract-snapshot"))
                    case .listOwned: try WireCoding.encode(ListOwnedRequest(owner: run.owner))
                    default: try WireCoding.encode(generic)
                    }
                let started = ContinuousClock.now
                if verb == .diagnose {
                    // diagnose always answers: an unreachable backend is its first failing stage.
                    let report = try await down.call(.diagnose, WorkspaceRef(workspaceId: id), as: DiagnoseResponse.self, timeout: run.timeout)
                    try run.expect(!report.ok && report.firstFailure != nil, "diagnose against an unreachable backend reported ok")
                    continue
                }
                do {
                    _ = try await down.call(verb, request: request, timeout: run.timeout)
                    throw ContractFailure("\(verb) against an unreachable backend succeeded")
                } catch let error as ProviderHost.ProviderCallError {
                    try run.expect(
                        error.status == .unavailable, "\(verb) against an unreachable backend answered \(error.status.name): \(error.message)")
                    try run.expect(error.retryable, "UNAVAILABLE from \(verb) is not marked retryable")
                    try run.expectMessage(error, "\(verb) against an unreachable backend")
                }
                let took = ContinuousClock.now - started
                try run.expect(took < .seconds(15), "UNAVAILABLE from \(verb) took \(took) (at most 15 s)")
            }
        },
        ContractCase(
            "validation.bad-config",
            "create refuses a configuration value of the wrong type with INVALID_ARGUMENT and a message; the provider keeps serving",
            profile: .lifecycle, exercises: [.describe]
        ) { run in
            guard case .object(var object) = run.providerConfiguration else { throw ContractFailure("the provider configuration is not an object") }
            object["owner"] = .number(42)
            var launch = run.launch
            launch.configuration = .object(object)
            do {
                let accepted = try await ProviderInstance.start(launch)
                await accepted.shutdown()
                throw ContractFailure("create accepted \"owner\": 42 (a number where the owner label is a string)")
            } catch let error as ProviderStartError {
                guard case .create(_, let refusal) = error else {
                    throw ContractFailure("a bad configuration did not reach create: \(error.description)")
                }
                try run.expect(
                    refusal.status == .invalidArgument, "create refused \"owner\": 42 with \(refusal.status.name), expected INVALID_ARGUMENT")
                try run.expectMessage(refusal, "create with \"owner\": 42")
            }
            let _: DescribeResponse = try await run.ok(.describe, [String: String]())
        },
        ContractCase(
            "list-owned.created-at-stable", "created_at_ms is when the resource was created: the same in every listing and in a restarted Host's",
            profile: .lifecycle, exercises: [.listOwned], requires: [.provision, .stop, .listOwned]
        ) { run in
            let id = run.newWorkspaceId("created")
            let before = Int64(Date().timeIntervalSince1970 * 1000)
            try await run.provision(id)
            func times(_ instance: ProviderInstance) async throws -> [String: Int64] {
                let owned = try await instance.call(.listOwned, ListOwnedRequest(owner: run.owner), as: ListOwnedResponse.self)
                return Dictionary(
                    owned.resources.filter { $0.workspaceId == id }.map { ("\($0.kind.rawValue) \($0.ref)", $0.createdAtMs) },
                    uniquingKeysWith: { a, _ in a })
            }
            let first = try await times(run.instance)
            try run.expect(!first.isEmpty, "list_owned lacks \(id)")
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            for (resource, time) in first {
                try run.expect(
                    time >= before - 120_000 && time <= now + 120_000,
                    "\(resource) has created_at_ms \(time), not the time it was created (\(before)…\(now))")
            }
            try await Task.sleep(for: .milliseconds(1100))
            let second = try await times(run.instance)
            try run.expect(second == first, "created_at_ms changed between two listings: \(first) then \(second)")
            let restarted = try await run.makeInstance(configuration: run.providerConfiguration)
            let third = try await times(restarted)
            await restarted.shutdown()
            try run.expect(third == first, "a restarted Host's list_owned answers other created_at_ms: \(first) then \(third)")
            _ = try await run.stop(id)
        },
        ContractCase(
            "lifecycle.stop.process-group", "stop ends every process of the workload: its children, and a grandchild in a session of its own",
            profile: .lifecycle, exercises: [.stop], requires: [.provision, .stop, .readFile], features: [.hostProcesses]
        ) { run in
            let id = run.newWorkspaceId("group")
            var request = run.provisionRequest(id)
            request.command = [
                "/bin/sh", "-c",
                "sleep 600 & echo $! > contract-group.tmp; (setsid sleep 600 & echo $! >> contract-group.tmp); echo $$ >> contract-group.tmp; "
                    + "mv contract-group.tmp contract-group.pids; echo workspace $WORKSPACE_ID started; while :; do sleep 1; done",
            ]
            run.track(id)
            let _: ProvisionResponse = try await run.ok(.provision, request)
            var pids: [Int32] = []
            let deadline = ContinuousClock.now + .seconds(10)
            while pids.count < 3 && ContinuousClock.now < deadline {
                if let read = try? await run.instance.call(
                    .readFile, FilePathRequest(workspaceId: id, path: "contract-group.pids"), as: FileContent.self),
                    let data = Data(base64Encoded: read.contentBase64)
                {
                    pids = String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { Int32($0) }
                }
                if pids.count < 3 { try await Task.sleep(for: .milliseconds(100)) }
            }
            try run.expect(pids.count == 3, "the workload did not record its three pids in contract-group.pids (got \(pids))")
            try run.expect(pids.allSatisfy(HostProcess.isAlive), "a process of the workload is not running before stop: \(pids)")
            _ = try await run.stop(id)
            let settled = ContinuousClock.now + .seconds(5)
            var alive = pids.filter(HostProcess.isAlive)
            while !alive.isEmpty && ContinuousClock.now < settled {
                try await Task.sleep(for: .milliseconds(100))
                alive = pids.filter(HostProcess.isAlive)
            }
            for pid in alive { kill(pid, SIGKILL) }
            try run.expect(
                alive.isEmpty, "processes of the workload outlived stop by 5 s: \(alive) (the child, the setsid grandchild, the shell: \(pids))")
        },
    ]
}
