import Foundation
import ProviderHost
import ProviderWire
import Synchronization
import Testing

/// Verb-time faults of hostile providers (`Tests/HostileProviders`), each contained: in a runner process the fault
/// costs that provider's in-flight calls (UNAVAILABLE naming the cause) and the runner is restarted; the bounds and
/// the call-id table hold in both modes. Every test also proves the obvious: this process is still alive.
@Suite struct ProviderIsolationTests {
    static func launch(
        _ name: String, isolation: ProviderIsolation = .process, timeout: Duration = .seconds(10), grace: Duration = .milliseconds(300)
    ) throws -> ProviderLaunch {
        ProviderLaunch(
            path: try TestSupport.hostile(name), isolation: isolation, threads: 4, defaultTimeout: timeout,
            loadTimeout: .seconds(2), createTimeout: .seconds(2),
            runner: RunnerOptions(killGrace: grace, restartBackoff: .milliseconds(10), maxRestartBackoff: .milliseconds(100))
        )
    }

    static func start(_ name: String, isolation: ProviderIsolation = .process, timeout: Duration = .seconds(10)) async throws -> ProviderInstance {
        try await ProviderInstance.start(try launch(name, isolation: isolation, timeout: timeout), logger: TestSupport.quietLogger)
    }

    static let provision = Array(#"{"workspace_id":"w1","token":"t"}"#.utf8)

    /// The error `verb` answers, or nil when it succeeded.
    func failure(_ instance: ProviderInstance, _ verb: Verb, _ request: [UInt8] = ProviderIsolationTests.provision) async -> ProviderCallError? {
        do {
            _ = try await instance.call(verb, request: request)
            return nil
        } catch { return error }
    }

    func startError(_ name: String, isolation: ProviderIsolation = .process) async throws -> ProviderStartError? {
        do {
            let instance = try await ProviderInstance.start(try Self.launch(name, isolation: isolation), logger: TestSupport.quietLogger)
            await instance.shutdown()
            return nil
        } catch let error as ProviderStartError { return error }
    }

    @Test(arguments: [
        ("segv_verb", "killed by signal 11 (SIGSEGV)"), ("abort_verb", "killed by signal 6 (SIGABRT)"), ("exit_verb", "exited with status 0"),
    ])
    func aCrashingVerbCostsOnlyItsCallAndTheRunnerIsRestarted(file: String, cause: String) async throws {
        let instance = try await Self.start(file)
        defer { Task { await instance.shutdown() } }
        let firstPid = try #require(instance.runtime.runnerPid)
        let failure = try #require(await failure(instance, .provision))
        #expect(failure.status == .unavailable)
        #expect(
            failure.message.contains(cause) && failure.message.contains("provider \(instance.name)") && failure.message.contains("provision"),
            "\(failure.message)")
        // The next call gets a new runner; the old one is gone.
        let described = try await instance.call(.describe, request: Array("{}".utf8))
        #expect(String(decoding: described, as: UTF8.self).contains(instance.name))
        let runtime = instance.runtime
        #expect(runtime.restarts == 1 && runtime.runnerPid != nil && runtime.runnerPid != firstPid)
        #expect(runtime.lastCrash?.contains(cause) == true)
        #expect(kill(firstPid, 0) == -1, "the crashed runner \(firstPid) still exists")
    }

    @Test func aCrashInTheLibraryConstructorIsARefusalNamingTheExit() async throws {
        let error = try #require(try await startError("exit_constructor"))
        guard case .load(.runnerFailed(_, let reason)) = error else {
            Issue.record("\(error)")
            return
        }
        #expect(reason.contains("exited with status 0") && reason.contains("loading"), "\(reason)")
    }

    @Test func aHungVerbIsAnsweredAtItsDeadlineAndItsRunnerKilledAfterTheGrace() async throws {
        let instance = try await Self.start("blocks_forever", timeout: .milliseconds(400))
        defer { Task { await instance.shutdown() } }
        let pid = try #require(instance.runtime.runnerPid)
        let started = ContinuousClock.now
        let failure = try #require(await failure(instance, .provision))
        #expect(failure.status == .deadlineExceeded)
        #expect(ContinuousClock.now - started < .seconds(2))
        // 400 ms + 300 ms grace: the runner ignoring is_cancelled is killed, with the reason kept for operators.
        let deadline = ContinuousClock.now + .seconds(5)
        while instance.runtime.restarts == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(instance.runtime.lastCrash?.contains("overran its deadline") == true, "\(String(describing: instance.runtime.lastCrash))")
        #expect(kill(pid, 0) == -1)
        // Another verb of the same provider still works (on a new runner).
        _ = try await instance.call(.inspect, request: Array(#"{"workspace_id":"w1"}"#.utf8))
    }

    @Test(arguments: [ProviderIsolation.process, .inProcess])
    func shutdownIsBoundedWhileAVerbIgnoresItsDeadline(isolation: ProviderIsolation) async throws {
        // A Host stopping (SIGTERM) must not wait for a verb that never returns.
        let instance = try await Self.start("blocks_forever", isolation: isolation, timeout: .milliseconds(200))
        #expect(await failure(instance, .provision)?.status == .deadlineExceeded)
        let started = ContinuousClock.now
        await instance.shutdown()
        #expect(ContinuousClock.now - started < .seconds(4))
    }

    @Test(arguments: [ProviderIsolation.process, .inProcess])
    func aThreadAskingAfterItsCallReturnedIsToldCancelledNotFreedMemory(isolation: ProviderIsolation) async throws {
        let instance = try await Self.start("late_thread", isolation: isolation)
        defer { Task { await instance.shutdown() } }
        _ = try await instance.call(.provision, request: Self.provision)
        var detail = ""
        for _ in 0..<100 {
            let described = try WireCoding.decode(JSONValue.self, from: try await instance.call(.describe, request: Array("{}".utf8)))
            detail = described["detail"]?.stringValue ?? ""
            if detail != "late_is_cancelled=-1" { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(detail == "late_is_cancelled=1")
    }

    @Test(arguments: [ProviderIsolation.process, .inProcess])
    func aBodyLengthLieIsRefusedWithoutReadingIt(isolation: ProviderIsolation) async throws {
        let instance = try await Self.start("body_len_lie", isolation: isolation)
        defer { Task { await instance.shutdown() } }
        let failure = try #require(await failure(instance, .provision))
        #expect(failure.status == .internal)
        #expect(failure.message.contains("body_len 1099511627776") && failure.message.contains("not read"), "\(failure.message)")
        #expect(instance.runtime.restarts == 0)
    }

    @Test(arguments: [ProviderIsolation.process, .inProcess])
    func aTableSizeLieIsRefusedAtLoad(isolation: ProviderIsolation) async throws {
        let error = try #require(try await startError("vtable_size_lie", isolation: isolation))
        guard case .load(.incompatibleTable(_, let reason)) = error else {
            Issue.record("\(error)")
            return
        }
        #expect(reason.contains("struct_size 2147483647"))
    }

    @Test(arguments: [("lookalike_name", "ASCII"), ("long_name", "200 bytes long")])
    func namesMustBePlainShortASCII(file: String, expected: String) async throws {
        for isolation in [ProviderIsolation.process, .inProcess] {
            let error = try #require(try await startError(file, isolation: isolation))
            guard case .load(.malformedManifest(_, let reason)) = error else {
                Issue.record("\(error)")
                continue
            }
            #expect(reason.contains(expected), "\(reason)")
        }
    }

    @Test func closingTheHostsDescriptorsCostsOnlyTheRunner() async throws {
        let instance = try await Self.start("closes_fds")
        defer { Task { await instance.shutdown() } }
        let failure = try #require(await failure(instance, .provision))
        #expect(failure.status == .unavailable)
        #expect(failure.message.contains("descriptors"), "\(failure.message)")
        _ = try await instance.call(.describe, request: Array("{}".utf8))
    }

    @Test func whatAProviderForksDiesWithItsRunner() async throws {
        let instance = try await Self.start("forks_child")
        let started = try await instance.call(.provision, ProvisionRequest(workspaceId: "w1", token: "t"), as: ProvisionResponse.self)
        let child = try #require(Int32(started.instanceRef))
        #expect(Self.isRunning(child))
        await instance.shutdown()
        let deadline = ContinuousClock.now + .seconds(5)
        while Self.isRunning(child) && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!Self.isRunning(child), "the provider's child \(child) outlived its runner")
    }

    /// Alive and not a zombie.
    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }

    @Test(arguments: [ProviderIsolation.process, .inProcess])
    func hugeMessagesAreCutAndHugeEventsDropped(isolation: ProviderIsolation) async throws {
        let events = Box(0)
        let instance = try await ProviderInstance.start(try Self.launch("huge_strings", isolation: isolation), logger: TestSupport.quietLogger) { _ in
            events.value.withLock { $0 += 1 }
        }
        defer { Task { await instance.shutdown() } }
        let failure = try #require(await failure(instance, .provision))
        #expect(failure.status == .unavailable)
        #expect(failure.message.utf8.count <= ProviderBounds.maxMessageBytes + 64)
        #expect(failure.message.hasSuffix("(cut at \(ProviderBounds.maxMessageBytes) bytes)"))
        #expect(events.value.withLock { $0 } == 0)
        #expect(instance.runtime.restarts == 0)
    }

    @Test func aCrashingListOwnedIsUnavailable() async throws {
        let instance = try await Self.start("crashing_list_owned")
        defer { Task { await instance.shutdown() } }
        let failure = try #require(await failure(instance, .listOwned, Array("{}".utf8)))
        #expect(failure.status == .unavailable && failure.message.contains("SIGSEGV"))
        _ = try await instance.call(.provision, request: Self.provision)
    }

    @Test func aSlowConstructorIsRefusedAfterTheLoadDeadline() async throws {
        let started = ContinuousClock.now
        let error = try #require(try await startError("slow_constructor"))
        #expect(ContinuousClock.now - started < .seconds(6))
        guard case .load(.timedOut(_, let phase, _)) = error else {
            Issue.record("\(error)")
            return
        }
        #expect(phase.contains("loading"))
    }

    @Test(arguments: [ProviderIsolation.process, .inProcess])
    func aSlowCreateIsRefusedAfterTheCreateDeadline(isolation: ProviderIsolation) async throws {
        let started = ContinuousClock.now
        let error = try #require(try await startError("slow_create", isolation: isolation))
        #expect(ContinuousClock.now - started < .seconds(6))
        guard case .create(_, let failure) = error else {
            Issue.record("\(error)")
            return
        }
        #expect(failure.status == .deadlineExceeded && failure.message.contains("create"), "\(failure.message)")
    }

    @Test func theRunnerGetsOnlyTheEnvironmentItIsGranted() async throws {
        // The Process provider hands its workloads PATH/HOME/… from its own environment; a secret of the test
        // process must not reach the runner unless granted.
        setenv("MOLECULE_TEST_SECRET", "s3cr3t", 1)
        let state = TestSupport.temporaryDirectory("isolation-env")
        defer { try? FileManager.default.removeItem(at: state) }
        for (granted, expected) in [(false, false), (true, true)] {
            var launch = ProviderLaunch(
                path: TestSupport.processProviderPath, configuration: ["state_dir": .string(state.path), "stop_grace_ms": 200])
            if granted { launch.runner.passEnvironment.append("MOLECULE_TEST_*") }
            let instance = try await ProviderInstance.start(launch, logger: TestSupport.quietLogger)
            let pid = try #require(instance.runtime.runnerPid)
            let environ = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ"))).map { String(decoding: $0, as: UTF8.self) } ?? ""
            #expect(environ.contains("MOLECULE_TEST_SECRET=s3cr3t") == expected, "granted \(granted): \(environ)")
            #expect(environ.contains("PATH="))
            // Only stdin/stdout/stderr and the socket: nothing else of this process leaks in.
            let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").compactMap(Int.init).filter { $0 > 3 }
            let notOwn = descriptors.filter { fd in
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"))?.hasPrefix("socket:") == true
                    && fd < 5
            }
            #expect(notOwn.isEmpty, "inherited \(notOwn)")
            await instance.shutdown()
            #expect(kill(pid, 0) == -1 || Self.isRunning(pid) == false)
        }
    }

    @Test(arguments: [ProviderIsolation.process, .inProcess])
    func cancellingTheCallerReachesTheProvidersIsCancelled(isolation: ProviderIsolation) async throws {
        let instance = try await Self.start("cancellable", isolation: isolation, timeout: .seconds(20))
        defer { Task { await instance.shutdown() } }
        let call = Task { await failure(instance, .provision) }
        try await Task.sleep(for: .milliseconds(200))
        let cancelled = ContinuousClock.now
        call.cancel()
        let answer = try #require(await call.value)
        #expect(ContinuousClock.now - cancelled < .seconds(2), "the provider saw the cancellation late")
        #expect(answer.status == .deadlineExceeded && answer.message.hasPrefix("cancelled after"), "\(answer.message)")
    }

    @Test func reloadUnderLoadLosesNothing() async throws {
        let state = TestSupport.temporaryDirectory("reload")
        defer { try? FileManager.default.removeItem(at: state) }
        let launch = ProviderLaunch(path: TestSupport.processProviderPath, configuration: ["state_dir": .string(state.path), "stop_grace_ms": 200])
        let instance = try await ProviderInstance.start(launch, logger: TestSupport.quietLogger)
        defer { Task { await instance.shutdown() } }
        let id = "reload-\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await instance.call(
            .provision, ProvisionRequest(workspaceId: id, command: ["/bin/sh", "-c", "sleep 60"], token: "t"), as: ProvisionResponse.self)
        let firstPid = try #require(instance.runtime.runnerPid)
        let failures = Box<[String]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    let request = WriteFileRequest(
                        workspaceId: id, path: "load/f\(index)", contentBase64: Data("\(index)".utf8).base64EncodedString())
                    do { _ = try await instance.call(.writeFile, request, as: FileWriteResponse.self) } catch {
                        failures.value.withLock { $0.append("\(index): \(error)") }
                    }
                }
            }
            group.addTask {
                for _ in 0..<2 {
                    try await Task.sleep(for: .milliseconds(30))
                    try await instance.reload()
                }
            }
            try await group.waitForAll()
        }
        #expect(failures.value.withLock { $0 }.isEmpty, "\(failures.value.withLock { $0 }.prefix(5))")
        #expect(instance.runtime.reloads == 2 && instance.runtime.runnerPid != firstPid && instance.runtime.restarts == 0)
        let listing = try await instance.call(.listFiles, ListFilesRequest(workspaceId: id, path: "load", depth: 1), as: ListFilesResponse.self)
        #expect(Set(listing.files.map(\.path)) == Set((0..<200).map { "load/f\($0)" }), "\(listing.files.count) files")
        for index in [0, 99, 199] {
            let file = try await instance.call(.readFile, FilePathRequest(workspaceId: id, path: "load/f\(index)"), as: FileContent.self)
            #expect(file.contentBase64 == Data("\(index)".utf8).base64EncodedString())
        }
        // The old runner was released once its calls finished.
        let deadline = ContinuousClock.now + .seconds(5)
        while Self.isRunning(firstPid) && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!Self.isRunning(firstPid))
        _ = try await instance.call(.stop, WorkspaceRef(workspaceId: id), as: StopResponse.self)
    }

    @Test func aReloadThatFailsLeavesTheOldLibraryServing() async throws {
        let state = TestSupport.temporaryDirectory("reload-bad")
        defer { try? FileManager.default.removeItem(at: state) }
        let instance = try await ProviderInstance.start(
            ProviderLaunch(path: TestSupport.processProviderPath, configuration: ["state_dir": .string(state.path)]), logger: TestSupport.quietLogger
        )
        defer { Task { await instance.shutdown() } }
        let pid = instance.runtime.runnerPid
        for (path, expected) in [
            (try TestSupport.hostile("exit_constructor"), "exited with status 0"), (try TestSupport.hostile("segv_verb"), "hostile-segv"),
        ] {
            do {
                try await instance.reload(path: path)
                Issue.record("reload to \(path) succeeded")
            } catch { #expect(error.description.contains(expected), "\(error)") }
        }
        #expect(instance.runtime.runnerPid == pid && instance.name == "process")
        _ = try await instance.call(.describe, request: Array("{}".utf8))
    }
}

/// A lock-protected value that closures can share.
final class Box<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
}
