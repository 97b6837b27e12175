import Foundation
import ProviderHost
import ProviderWire
import Testing

/// The loader and the verb executor against providers that break the contract, one defect each
/// (`Tests/HostileProviders/*.c`). Each must be refused or contained with its own message; the Host keeps serving.
@Suite struct HostileProviderTests {
    func refusal(_ path: String) -> ProviderLoadError? {
        do {
            _ = try ProviderLibrary.load(path: path, logger: TestSupport.quietLogger)
            return nil
        } catch { return error }
    }

    @Test func missingFileIsRefused() {
        let error = refusal("/nonexistent/libNothing.so")
        #expect(error == .fileMissing(path: "/nonexistent/libNothing.so"))
        #expect(error?.description == "provider /nonexistent/libNothing.so: refused: file not found")
    }

    @Test func textFileIsNotASharedObject() throws {
        let path = TestSupport.temporaryDirectory("text").appendingPathComponent("libText.so").path
        try FileManager.default.copyItem(
            atPath: TestSupport.repositoryRoot.appendingPathComponent("Tests/HostileProviders/not_a_shared_object.so.txt").path, toPath: path
        )
        #expect(refusal(path) == .notSharedObject(path: path, reason: "no ELF header"))
    }

    @Test func missingEntrySymbolIsRefused() throws {
        let path = try TestSupport.hostile("no_entry")
        let error = try #require(refusal(path))
        #expect(error == .entryMissing(path: path))
        #expect(error.description.contains("molecule_provider_negotiate is missing"))
    }

    @Test func nullFunctionTableIsRefused() throws {
        let path = try TestSupport.hostile("null_vtable")
        #expect(refusal(path) == .entryReturnedNull(path: path, field: "function table"))
    }

    @Test func nullManifestIsRefused() throws {
        let path = try TestSupport.hostile("null_return")
        #expect(refusal(path) == .entryReturnedNull(path: path, field: "manifest"))
    }

    @Test func nonOverlappingABIRangeIsRefused() throws {
        let path = try TestSupport.hostile("abi_mismatch")
        let error = try #require(refusal(path))
        #expect(error == .abiMismatch(path: path, provider: 7...9, host: ProviderLibrary.hostABIRange))
        #expect(error.description.hasSuffix("refused: ABI range 7...9 does not overlap the Host's 1...1"))
    }

    @Test func malformedManifestIsRefused() throws {
        let path = try TestSupport.hostile("bad_manifest")
        guard case .malformedManifest(path, let reason)? = refusal(path) else {
            Issue.record("expected malformedManifest, got \(String(describing: refusal(path)))")
            return
        }
        #expect(reason == "not valid JSON")
    }

    @Test func claimWithoutSlotIsRefused() throws {
        let path = try TestSupport.hostile("claim_mismatch")
        #expect(refusal(path) == .malformedManifest(path: path, reason: "claims verb pause but its slot is NULL"))
    }

    @Test func largerTableWithUnknownNonZeroSlotIsRefusedLoudly() throws {
        let path = try TestSupport.hostile("big_vtable")
        guard case .incompatibleTable(path, let reason)? = refusal(path) else {
            Issue.record("expected incompatibleTable, got \(String(describing: refusal(path)))")
            return
        }
        #expect(reason.contains("is non-zero"))
        #expect(reason.contains("upgrade the Host"))
    }

    @Test func largerTableWithZeroTrailingBytesIsAccepted() async throws {
        let library = try ProviderLibrary.load(path: try TestSupport.hostile("big_vtable_zero"), logger: TestSupport.quietLogger)
        #expect(library.manifest.name == "future-ok")
        let instance = try ProviderInstance(library: library)
        let answer = try await instance.call(.describe, [String: String](), as: DescribeResponse.self)
        #expect(answer.version == "2.0.0")
        await instance.shutdown()
    }

    @Test func duplicateNameIsRefusedAndTheFirstKeepsServing() async throws {
        var registry = ProviderRegistry()
        let first = registry.load(path: TestSupport.processProviderPath, logger: TestSupport.quietLogger)
        let duplicate = try TestSupport.hostile("dup_name")
        guard case .failure(let error) = registry.load(path: duplicate, logger: TestSupport.quietLogger) else {
            Issue.record("a second provider named process was accepted")
            return
        }
        let firstPath = try first.get().path
        #expect(error == .duplicateName(path: duplicate, name: "process", loadedFrom: firstPath))
        #expect(registry["process"]?.path == firstPath)
    }

    @Test func oneRegistryRefusesEveryBadLibraryAndLoadsTheGoodOnes() throws {
        var registry = ProviderRegistry()
        let bad = try ["no_entry", "null_vtable", "abi_mismatch", "bad_manifest", "claim_mismatch", "big_vtable", "null_return"].map(
            TestSupport.hostile
        )
        for path in bad { registry.load(path: path, logger: TestSupport.quietLogger) }
        registry.load(path: TestSupport.processProviderPath, logger: TestSupport.quietLogger)
        registry.load(path: try TestSupport.cExample(), logger: TestSupport.quietLogger)
        #expect(registry.refusals.count == bad.count)
        #expect(Set(registry.refusals.map(\.path)) == Set(bad))
        #expect(Set(registry.libraries.keys) == ["process", "c-example"])
        #expect(registry.refusals.allSatisfy { $0.description.hasPrefix("provider \($0.path): refused: ") && !$0.description.contains("\n") })
    }

    @Test func verbThatBlocksForeverGetsDeadlineExceededAndTheProviderStaysUsable() async throws {
        let library = try ProviderLibrary.load(path: try TestSupport.hostile("blocks_forever"), logger: TestSupport.quietLogger)
        let instance = try ProviderInstance(library: library, threads: 2)
        let started = ContinuousClock.now
        do {
            _ = try await instance.call(.provision, ProvisionRequest(workspaceId: "w1"), as: ProvisionResponse.self, timeout: .milliseconds(300))
            Issue.record("a provision that blocks forever returned")
        } catch {
            #expect(error.status == .deadlineExceeded)
            #expect(error.message == "provider hostile-block did not answer provision within 0.3 seconds")
        }
        #expect(ContinuousClock.now - started < .seconds(2))
        // One thread is stuck; the other still serves.
        let answer = try await instance.call(.describe, [String: String](), as: DescribeResponse.self, timeout: .seconds(5))
        #expect(answer.name == "hostile-block")
        // With every thread stuck, calls fail fast instead of queueing forever.
        _ = try? await instance.call(.provision, ProvisionRequest(workspaceId: "w2"), as: ProvisionResponse.self, timeout: .milliseconds(100))
        let fastStarted = ContinuousClock.now
        do {
            _ = try await instance.call(.describe, [String: String](), as: DescribeResponse.self, timeout: .seconds(5))
            Issue.record("describe succeeded with every worker thread stuck")
        } catch {
            #expect(error.status == .unavailable)
            #expect(error.message.contains("all 2 worker threads are stuck"))
        }
        #expect(ContinuousClock.now - fastStarted < .seconds(1))
    }

    @Test func statusOutsideTheTaxonomyIsInternal() async throws {
        let library = try ProviderLibrary.load(path: try TestSupport.hostile("bad_status"), logger: TestSupport.quietLogger)
        let instance = try ProviderInstance(library: library)
        do {
            _ = try await instance.call(.provision, ProvisionRequest(workspaceId: "w1"), as: ProvisionResponse.self)
            Issue.record("status 999 was taken as success")
        } catch {
            #expect(error.status == .internal)
            #expect(
                error.message == "provider hostile-status answered provision with status 999, which is not in the ABI's taxonomy (message: weird)")
        }
        await instance.shutdown()
    }

    @Test func invalidJSONAndInvalidUTF8AreInternalNamingProviderAndVerb() async throws {
        let library = try ProviderLibrary.load(path: try TestSupport.hostile("bad_json"), logger: TestSupport.quietLogger)
        let instance = try ProviderInstance(library: library)
        do {
            _ = try await instance.call(.provision, ProvisionRequest(workspaceId: "w1"), as: ProvisionResponse.self)
            Issue.record("invalid JSON was accepted")
        } catch {
            #expect(error.status == .internal)
            #expect(error.message == "provider hostile-json answered provision with a body that is not valid JSON")
        }
        do {
            _ = try await instance.call(.inspect, WorkspaceRef(workspaceId: "w1"), as: InspectResponse.self)
            Issue.record("invalid UTF-8 was accepted")
        } catch {
            #expect(error.status == .internal)
            #expect(error.message == "provider hostile-json answered inspect with a body that is not valid UTF-8")
        }
        await instance.shutdown()
    }

    @Test func nullSlotIsUnsupportedWithoutCallingTheProvider() async throws {
        let library = try ProviderLibrary.load(path: try TestSupport.cExample(), logger: TestSupport.quietLogger)
        let instance = try ProviderInstance(library: library)
        do {
            _ = try await instance.call(.pause, WorkspaceRef(workspaceId: "w"), as: InspectResponse.self)
            Issue.record("pause succeeded on a provider without a pause slot")
        } catch {
            #expect(error.status == .unsupported)
            #expect(error.message == "provider c-example does not support pause")
        }
        await instance.shutdown()
    }
}
