import Foundation
import ProviderHost
import ProviderWire
import Testing

/// ABI 1.1 appended verbs; these prove the evolution rules hold both ways: a provider built against the 1.0 header
/// keeps loading and serving on this Host, and a 1.1 provider meets a 1.0 Host with a 1.0 table or a clean refusal.
@Suite struct ABICompatibilityTests {
    static let newVerbs: [Verb] = [.exec, .sessionOpen, .sessionWrite, .sessionRead, .sessionResize, .sessionClose]

    @Test func aProviderBuiltAgainstThe10HeaderNegotiates10AndServes() async throws {
        let library = try ProviderLibrary.load(path: try TestSupport.abi10Fixture(), logger: TestSupport.quietLogger)
        #expect(library.abiVersion == 1)
        #expect(library.abiMinor == 0)
        #expect(library.manifest.abi.minor == nil)
        #expect(Set(library.supportedVerbs) == [.describe, .provision, .stop, .inspect, .listOwned])
        let instance = try ProviderInstance(library: library)
        // Its table has 19 slots: exec is answered UNSUPPORTED by the Host, which never reads past them.
        for verb in Self.newVerbs {
            await #expect(throws: ProviderCallError.self) {
                _ = try await instance.call(verb, request: Array(#"{"workspace_id":"w1","argv":["true"]}"#.utf8))
            }
            do {
                _ = try await instance.call(verb, request: Array("{}".utf8))
            } catch {
                #expect(error.status == .unsupported, "\(verb): \(error)")
                #expect(error.message.contains("does not support \(verb.wireName)"))
            }
        }
        // And its 1.0 verbs work as before.
        let provisioned = try await instance.call(
            .provision, ProvisionRequest(workspaceId: "abi10-w1"), as: ProvisionResponse.self)
        #expect(provisioned.state == .running)
        let inspected = try await instance.call(.inspect, WorkspaceRef(workspaceId: "abi10-w1"), as: InspectResponse.self)
        #expect(inspected.state == .running)
        await instance.shutdown()
    }

    @Test func aSwift11ProviderSpeaks11HereAnd10ToA10Host() async throws {
        let current = try ProviderLibrary.load(path: TestSupport.processProviderPath, logger: TestSupport.quietLogger)
        #expect(current.abiMinor == 1)
        #expect(current.manifest.abi.minor == 1)
        #expect(current.supportedVerbs.contains(.exec))
        #expect(current.manifest.verbs["exec"] != nil)

        // The same binary, offered 1.0: it answers its 1.0 table (19 slots) and a manifest claiming no 1.1 verb.
        let older = try ProviderLibrary.load(path: TestSupport.processProviderPath, logger: TestSupport.quietLogger, hostMinor: 0)
        #expect(older.abiMinor == 0)
        #expect(older.manifest.abi.minor == nil)
        #expect(Set(older.supportedVerbs).isDisjoint(with: Self.newVerbs))
        #expect(Self.newVerbs.allSatisfy { older.manifest.verbs[$0.wireName] == nil && older.manifest.unsupported?[$0.wireName] == nil })
        #expect(Set(older.supportedVerbs) == Set(current.supportedVerbs).subtracting(Self.newVerbs))
    }

    @Test func a11ProviderThatIgnoresTheOfferedMinorIsRefusedByA10Host() async throws {
        let path = try TestSupport.hostile("ignores_minor")
        do {
            _ = try ProviderLibrary.load(path: path, logger: TestSupport.quietLogger, hostMinor: 0)
            Issue.record("a 1.0 Host loaded a provider that answered its 1.1 table")
        } catch {
            guard case .malformedManifest(_, let reason) = error else {
                Issue.record("expected a manifest refusal, got \(error)")
                return
            }
            #expect(reason.contains("ABI 1.1") && reason.contains("1.0"), "\(reason)")
        }
        // The current Host speaks 1.1 with it, and calls its exec.
        let library = try ProviderLibrary.load(path: path, logger: TestSupport.quietLogger)
        #expect(library.abiMinor == 1)
        let instance = try ProviderInstance(library: library)
        let answer = try await instance.call(.exec, ExecRequest(workspaceId: "w1", argv: ["true"]), as: ExecResponse.self)
        #expect(answer.stdoutBase64 == "aGk=")
        await instance.shutdown()
    }
}
