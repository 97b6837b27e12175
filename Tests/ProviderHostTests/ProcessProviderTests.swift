import Foundation
import ProviderHost
import ProviderWire
import Testing

/// Process-provider behaviour the generic suite cannot see: nothing of a workspace's process tree survives stop.
@Suite struct ProcessProviderTests {
    @Test func stopKillsTheWholeProcessGroupIncludingChildren() async throws {
        let state = TestSupport.temporaryDirectory("process")
        defer { try? FileManager.default.removeItem(at: state) }
        let library = try ProviderLibrary.load(path: TestSupport.processProviderPath, logger: TestSupport.quietLogger)
        let instance = try ProviderInstance(
            library: library, configuration: .object(["state_dir": .string(state.path), "stop_grace_ms": .number(500)]))
        let marker = "molecule-child-\(UUID().uuidString.prefix(8))"
        // The workload starts a grandchild that ignores SIGTERM; stop must still leave nothing behind.
        // Both shells carry the marker as their $0; `; :` keeps them from exec-ing into sleep.
        let command = ["/bin/sh", "-c", "sh -c 'trap \"\" TERM; sleep 1000; :' \"$0\" & sleep 1000; :", marker]
        _ = try await instance.call(.provision, ProvisionRequest(workspaceId: "tree", command: command), as: ProvisionResponse.self)
        try await Task.sleep(for: .milliseconds(200))
        #expect(Self.processes(matching: marker) >= 2)
        let stopped = try await instance.call(.stop, WorkspaceRef(workspaceId: "tree"), as: StopResponse.self)
        #expect(stopped.stopped)
        #expect(Self.processes(matching: marker) == 0)
        await instance.shutdown()
    }

    @Test func aWorkspaceOutlivesTheProviderInstanceThatStartedIt() async throws {
        let state = TestSupport.temporaryDirectory("outlive")
        defer { try? FileManager.default.removeItem(at: state) }
        let library = try ProviderLibrary.load(path: TestSupport.processProviderPath, logger: TestSupport.quietLogger)
        let config = JSONValue.object(["state_dir": .string(state.path), "owner": .string("owner-a")])
        let first = try ProviderInstance(library: library, configuration: config)
        _ = try await first.call(.provision, ProvisionRequest(workspaceId: "survivor"), as: ProvisionResponse.self)
        await first.shutdown()
        let second = try ProviderInstance(library: library, configuration: config)
        let seen = try await second.call(.inspect, WorkspaceRef(workspaceId: "survivor"), as: InspectResponse.self)
        #expect(seen.state == .running)
        let other = try await second.call(.listOwned, ListOwnedRequest(owner: "owner-b"), as: ListOwnedResponse.self)
        #expect(other.resources.isEmpty)
        _ = try await second.call(.stop, WorkspaceRef(workspaceId: "survivor"), as: StopResponse.self)
        await second.shutdown()
    }

    /// The Host ignores SIGTERM and SIGINT (ServiceLifecycle handles them through a dispatch source), and an ignored
    /// signal stays ignored across exec: a workspace must still start with default dispositions, or stop's SIGTERM
    /// grace is dead time before SIGKILL and the workload never shuts down cleanly.
    @Test func aWorkspaceStartsWithDefaultSignalsAndStopsGracefully() async throws {
        let previous = signal(SIGTERM, SIG_IGN)  // as in the Host
        defer { signal(SIGTERM, previous) }
        let state = TestSupport.temporaryDirectory("signals")
        defer { try? FileManager.default.removeItem(at: state) }
        let library = try ProviderLibrary.load(path: TestSupport.processProviderPath, logger: TestSupport.quietLogger)
        let instance = try ProviderInstance(
            library: library, configuration: .object(["state_dir": .string(state.path), "stop_grace_ms": .number(8000)]))
        // Written in the workload's own files root (a sandboxed workload cannot write anywhere else).
        let marker = state.appendingPathComponent("workspaces/sig/configs/graceful").path
        let command = ["/bin/sh", "-c", "trap 'echo graceful > graceful; exit 0' TERM; while :; do sleep 0.05; done"]
        _ = try await instance.call(.provision, ProvisionRequest(workspaceId: "sig", command: command), as: ProvisionResponse.self)
        try await Task.sleep(for: .milliseconds(300))
        let clock = ContinuousClock.now
        _ = try await instance.call(.stop, WorkspaceRef(workspaceId: "sig"), as: StopResponse.self)
        #expect(ContinuousClock.now - clock < .seconds(4), "stop waited out the grace: SIGTERM was ignored")
        #expect(FileManager.default.contents(atPath: marker) == Data("graceful\n".utf8), "the workload's TERM trap never ran")
        await instance.shutdown()
    }

    static func processes(matching marker: String) -> Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { Int($0) != nil }.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                !stat.contains(") Z ")
            else { return false }
            return String(decoding: data, as: UTF8.self).contains(marker)
        }.count
    }
}
