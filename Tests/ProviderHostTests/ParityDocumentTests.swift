import ContractSuite
import Foundation
import Testing

/// `docs/parity.md` is generated from the committed results in `docs/parity/*.json`, and those from real suite runs.
/// Set UPDATE_PARITY=1 to regenerate both (scripts/update-parity.sh).
@Suite(.serialized) struct ParityDocumentTests {
    static let directory = TestSupport.repositoryRoot.appendingPathComponent("docs/parity")
    static let document = TestSupport.repositoryRoot.appendingPathComponent("docs/parity.md")
    static var updating: Bool { ProcessInfo.processInfo.environment["UPDATE_PARITY"] == "1" }

    /// `docker (podman)` → `docker-podman`.
    static func fileName(_ label: String) -> String {
        label.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined().split(separator: "-").joined(separator: "-")
    }

    static func encode(_ report: ContractReport) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(report.stable) + Data("\n".utf8)
    }

    @Test func committedResultsMatchFreshRunsOfEveryInTreeProvider() async throws {
        for provider in try ContractSuiteTests.inTreeProviders() {
            let report = try await ContractSuiteTests.run(provider)
            let failed = report.cases.filter { $0.outcome == .failed }
            #expect(failed.isEmpty, "\(report.label) failed cases: \(failed)")
            let file = Self.directory.appendingPathComponent("\(Self.fileName(report.label)).json")
            let fresh = try Self.encode(report)
            if Self.updating {
                try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
                try fresh.write(to: file)
                continue
            }
            let committed = try? Data(contentsOf: file)
            #expect(committed == fresh, "\(file.path) is stale: run scripts/update-parity.sh and commit the result")
        }
    }

    @Test func parityMarkdownIsGeneratedFromTheCommittedResults() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { $0.hasSuffix(".json") }.sorted()
        #expect(!files.isEmpty)
        let reports = try files.map {
            try JSONDecoder().decode(ContractReport.self, from: Data(contentsOf: Self.directory.appendingPathComponent($0)))
        }
        let markdown = ParityMatrix(reports: reports).markdown()
        if Self.updating {
            try Data(markdown.utf8).write(to: Self.document)
            return
        }
        let committed = try String(contentsOf: Self.document, encoding: .utf8)
        #expect(committed == markdown, "docs/parity.md is stale: run scripts/update-parity.sh and commit the result")
    }
}
