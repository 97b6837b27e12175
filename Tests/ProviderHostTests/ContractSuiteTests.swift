import ContractSuite
import Foundation
import FoundationXML
import ProviderHost
import ProviderWire
import Testing

/// The conformance suite against every in-tree provider, through its built `.so`.
@Suite(.serialized) struct ContractSuiteTests {
    /// One provider against one backend: its library, its contract configuration in `examples/contract/`, the report's
    /// label (the parity column) and the environment the configuration is expanded with.
    struct InTreeProvider: Sendable {
        var path: String
        var config: String
        var label: String?
        var environment: [String: String] = [:]
    }

    /// The in-tree providers, each against every backend this run has (scripts/test starts them and sets the variables).
    static func inTreeProviders() throws -> [InTreeProvider] {
        let examples = TestSupport.repositoryRoot.appendingPathComponent("examples/contract")
        var providers = [
            InTreeProvider(path: TestSupport.processProviderPath, config: examples.appendingPathComponent("process.yaml").path),
            InTreeProvider(path: try TestSupport.cExample(), config: examples.appendingPathComponent("c-example.yaml").path),
        ]
        let environment = ProcessInfo.processInfo.environment
        let docker = TestSupport.productsDirectory.appendingPathComponent("libProviderDocker.so").path
        if environment["DOCKER_HOST"] != nil, environment["MOLECULE_TEST_IMAGE"] != nil {
            providers.append(InTreeProvider(path: docker, config: examples.appendingPathComponent("docker.yaml").path))
        }
        // The same Docker provider against Podman's Docker-compatible API: its own parity column.
        if let podman = environment["MOLECULE_PODMAN_HOST"], environment["MOLECULE_TEST_IMAGE"] != nil {
            providers.append(
                InTreeProvider(
                    path: docker, config: examples.appendingPathComponent("docker.yaml").path, label: "docker (podman)",
                    environment: ["DOCKER_HOST": podman]))
        }
        if environment["AWS_ENDPOINT_URL_EC2"] != nil, environment["MOLECULE_EC2_SSH_OVERRIDE"] != nil, environment["MOLECULE_EC2_SSH_KEY"] != nil {
            providers.append(
                InTreeProvider(
                    path: TestSupport.productsDirectory.appendingPathComponent("libProviderEC2.so").path,
                    config: examples.appendingPathComponent("ec2.yaml").path))
        }
        return providers
    }

    static func run(_ provider: InTreeProvider) async throws -> ContractReport {
        try await run(path: provider.path, config: provider.config, label: provider.label, environment: provider.environment)
    }

    /// Runs the suite; the durability cases do a few cycles only (the CLI runs in scripts/test do them all).
    static func run(
        path: String, config: String, filter: String? = nil, label: String? = nil, environment overrides: [String: String] = [:]
    ) async throws -> ContractReport {
        let state = TestSupport.temporaryDirectory("contract")
        defer { try? FileManager.default.removeItem(at: state) }
        var environment = ProcessInfo.processInfo.environment.merging(overrides) { _, override in override }
        environment["MOLECULE_CONTRACT_STATE_DIR"] = state.path
        var configuration = try ContractConfiguration.parse(
            try String(contentsOfFile: config, encoding: .utf8), source: config, environment: environment
        )
        configuration.pauseCycles = 3
        configuration.snapshotCycles = 2
        let selection = ContractSelection(filters: filter.map { [$0] } ?? [])
        return await ContractRunner(launch: ProviderLaunch(path: path), configuration: configuration, selection: selection, label: label).run()
    }

    @Test func processProviderPassesEveryProfileWithoutASkip() async throws {
        let report = try await Self.run(path: TestSupport.processProviderPath, config: try Self.inTreeProviders()[0].config)
        let failures = report.cases.filter { $0.outcome != .passed }
        #expect(failures.isEmpty, "\(failures)")
        #expect(report.passed)
        #expect(report.complete)
        #expect(report.profiles.map(\.id) == ContractProfile.all.map(\.id))
        #expect(report.profiles.allSatisfy { $0.outcome == .passed }, "\(report.profiles.filter { $0.outcome != .passed })")
        #expect(report.verbs.allSatisfy { $0.claimed && $0.outcome == .passed }, "\(report.verbs.filter { $0.outcome != .passed })")
        #expect(report.verbs.count == Verb.allCases.count)
        #expect(report.provenance.librarySHA256.count == 64)
        #expect(report.provenance.abiNegotiated == 1)
        #expect(report.provenance.suiteVersion == ContractCatalogue.suiteVersion)
    }

    @Test func cExamplePassesLifecycleAndReportsTheRestUnsupported() async throws {
        let report = try await Self.run(path: try TestSupport.cExample(), config: try Self.inTreeProviders()[1].config)
        #expect(report.passed, "\(report.cases.filter { $0.outcome == .failed })")
        let lifecycle: Set = ["describe", "provision", "stop", "inspect", "list_owned"]
        for verb in report.verbs {
            #expect(verb.outcome == (lifecycle.contains(verb.verb) ? .passed : .unsupported), "\(verb.verb): \(verb.outcome)")
        }
        for id in [
            "lifecycle.basic", "lifecycle.repeated", "lifecycle.interleaved", "burst.concurrent-7", "unreachable.unavailable", "deadline.overrun",
        ] {
            #expect(report.cases.first { $0.id == id }?.outcome == .passed, "\(id)")
        }
        #expect(report.profiles.first { $0.id == "lifecycle" }?.outcome == .passed)
        for profile in report.profiles where profile.id != "lifecycle" {
            #expect(profile.outcome == .notApplicable, "\(profile.id): \(profile.outcome)")
        }
        // Not applicable only by the manifest: every case that did not run names the verb or feature it needs.
        for result in report.cases where result.outcome == .notApplicable {
            #expect(result.message?.hasPrefix("the manifest does not") == true, "\(result.id): \(result.message ?? "")")
        }
    }

    @Test func allInTreeProvidersLoadedInOneProcessEachPass() async throws {
        let providers = try Self.inTreeProviders()
        var registry = ProviderRegistry()
        for path in Set(providers.map(\.path)) { registry.load(path: path, logger: TestSupport.quietLogger) }
        #expect(registry.refusals.isEmpty)
        #expect(registry.libraries.count == Set(providers.map(\.path)).count)
        // Run the suites concurrently: every provider is live in this one process at the same time.
        let reports = try await withThrowingTaskGroup(of: ContractReport.self) { group in
            for provider in providers { group.addTask { try await Self.run(provider) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(reports.count == providers.count)
        let failed = reports.filter { !$0.passed }.map { "\($0.provenance.providerName): \($0.cases.filter { $0.outcome == .failed })" }
        #expect(failed.isEmpty, "\(failed)")
    }

    @Test func aFailingProviderFailsTheSuite() async throws {
        // hostile-status answers provision with a status outside the taxonomy: the suite must not pass it.
        let report = try await Self.run(
            path: try TestSupport.hostile("bad_status"),
            config: TestSupport.repositoryRoot.appendingPathComponent("examples/contract/c-example.yaml").path,
            filter: "lifecycle.basic"
        )
        #expect(!report.passed)
        #expect(report.cases.first { $0.id == "lifecycle.basic" }?.outcome == .failed)
        #expect(report.verbs.first { $0.verb == "provision" }?.outcome == .failed)
    }

    @Test func junitIsWellFormedXMLWithOneTestcasePerCase() async throws {
        let report = try await Self.run(path: try TestSupport.cExample(), config: try Self.inTreeProviders()[1].config)
        let xml = JUnitReport.render(report)
        let counter = ElementCounter()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = counter
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        #expect(counter.counts["testcase"] == report.cases.count)
        #expect(counter.counts["testsuite"] == 1)
        #expect(counter.counts["skipped"] == report.cases.filter { $0.outcome == .notApplicable || $0.outcome == .notRun }.count)
    }

    @Test func theJSONResultCarriesProvenance() async throws {
        let report = try await Self.run(path: try TestSupport.cExample(), config: try Self.inTreeProviders()[1].config)
        let json = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(report)) as? [String: Any]
        let provenance = try #require(json?["provenance"] as? [String: Any])
        for key in ["library_sha256", "provider_version", "abi_negotiated", "suite_version", "provider_name"] {
            #expect(provenance[key] != nil, "provenance lacks \(key)")
        }
        let cases = try #require(json?["cases"] as? [[String: Any]])
        #expect(cases.allSatisfy { $0["duration_ms"] != nil && $0["outcome"] != nil })
    }
}

final class ElementCounter: NSObject, XMLParserDelegate {
    var counts: [String: Int] = [:]
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
        counts[name, default: 0] += 1
    }
}
