import ContractSuite
import Foundation
import HostAPI
import ProviderWire
import Testing

/// `molecule-host contract` against each hostile provider: whatever the provider does, the run ends within its
/// budget, exits non-zero, and writes JSON and JUnit reports that name the fault.
@Suite(.serialized) struct ContractCLITests {
    /// (file, what the reports must name). A short verb timeout and kill grace keep hung verbs cheap.
    static let cases: [(file: String, fault: String)] = [
        ("segv_verb", "SIGSEGV"), ("abort_verb", "SIGABRT"), ("exit_verb", "exited with status 0"), ("exit_constructor", "exited with status 0"),
        ("blocks_forever", "overran its deadline"), ("late_thread", "late"), ("body_len_lie", "body_len 1099511627776"),
        ("vtable_size_lie", "struct_size 2147483647"), ("closes_fds", "descriptors"), ("forks_child", "hostile-fork"),
        ("huge_strings", "cut at 65536 bytes"), ("lookalike_name", "ASCII"), ("long_name", "200 bytes long"),
        ("crashing_list_owned", "SIGSEGV"), ("slow_constructor", "did not finish within"), ("slow_create", "create did not return"),
    ]

    static var host: String { TestSupport.productsDirectory.appendingPathComponent("molecule-host").path }

    static func configuration(_ directory: URL) throws -> String {
        let path = directory.appendingPathComponent("contract.yaml").path
        try "config: {}\nworkload: {}\nverb_timeout_ms: 1500\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs a command on a thread of its own (the wait blocks), answering status, output and wall time.
    static func run(_ arguments: [String]) async -> (status: Int32, output: String, seconds: Double) {
        await withCheckedContinuation { continuation in
            Thread {
                let started = Date()
                let result = CommandRunner.run(arguments)
                continuation.resume(returning: (result.status, result.output, Date().timeIntervalSince(started)))
            }.start()
        }
    }

    @Test func everyHostileProviderGetsAVerdictAndReportsThatNameTheFault() async throws {
        let directory = TestSupport.temporaryDirectory("contract-cli")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try Self.configuration(directory)
        for hostile in Self.cases {
            let json = directory.appendingPathComponent("\(hostile.file).json").path
            let junit = directory.appendingPathComponent("\(hostile.file).xml").path
            let result = await Self.run([
                Self.host, "contract", "--provider", try TestSupport.hostile(hostile.file), "--config", config, "--json", json, "--junit", junit,
                "--kill-grace-ms", "300", "--load-timeout-ms", "1500",
            ])
            #expect(result.status == 1, "\(hostile.file): exit \(result.status): \(result.output.suffix(400))")
            #expect(result.seconds < 60, "\(hostile.file) took \(result.seconds) s")
            let report = try WireCoding.decode(JSONValue.self, from: Array(try Data(contentsOf: URL(fileURLWithPath: json))))
            #expect(report["passed"] == false)
            let xml = try String(contentsOfFile: junit, encoding: .utf8)
            let jsonText = try String(contentsOfFile: json, encoding: .utf8)
            if hostile.file == "late_thread" || hostile.file == "forks_child" {
                // Not a contract fault the suite can see in a verb's answer: the verdict still fails (the workload
                // never runs), and the run reports every case.
                #expect((report["cases"]?.arrayValue?.count ?? 0) > 20, "\(hostile.file)")
            } else {
                #expect(jsonText.contains(hostile.fault), "\(hostile.file): JSON lacks \(hostile.fault)")
                #expect(xml.contains(hostile.fault.replacingOccurrences(of: "'", with: "&apos;")), "\(hostile.file): JUnit lacks \(hostile.fault)")
            }
        }
    }

    @Test func sigtermEndsARunPromptlyWithThePartialReport() async throws {
        let directory = TestSupport.temporaryDirectory("contract-sigterm")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try Self.configuration(directory)
        let json = directory.appendingPathComponent("partial.json").path
        let junit = directory.appendingPathComponent("partial.xml").path
        // A hung provider keeps the run busy; SIGTERM after a second must end it within a few.
        let script = """
            "$0" contract --provider "$1" --config "$2" --json "$3" --junit "$4" --kill-grace-ms 60000 & pid=$!
            sleep 1; kill -TERM $pid; wait $pid; echo "exit=$?"
            """
        let result = await Self.run(["/bin/sh", "-c", script, Self.host, try TestSupport.hostile("blocks_forever"), config, json, junit])
        #expect(result.output.contains("exit=1"), "\(result.output.suffix(400))")
        #expect(result.seconds < 8, "took \(result.seconds) s")
        let report = try WireCoding.decode(JSONValue.self, from: Array(try Data(contentsOf: URL(fileURLWithPath: json))))
        #expect(report["passed"] == false)
        #expect(
            report["cases"]?.arrayValue?.contains { $0["id"] == "run.interrupted" && ($0["message"]?.stringValue ?? "").contains("SIGTERM") } == true)
        #expect(FileManager.default.fileExists(atPath: junit))
    }
}

/// docs/conformance.md embeds the catalogue exactly as `molecule-host contract --list` prints it.
@Test func conformanceDocumentListsTheCatalogue() throws {
    let document = try String(contentsOf: TestSupport.repositoryRoot.appendingPathComponent("docs/conformance.md"), encoding: .utf8)
    guard let begin = document.range(of: "<!-- cases:begin -->\n"), let end = document.range(of: "\n<!-- cases:end -->") else {
        Issue.record("docs/conformance.md lacks the cases markers")
        return
    }
    let embedded = String(document[begin.upperBound..<end.lowerBound])
    #expect(
        embedded == ContractCatalogue.markdown().trimmingCharacters(in: .whitespacesAndNewlines),
        "docs/conformance.md's case list is stale: paste `molecule-host contract --list` between the markers")
    #expect(document.contains("Suite \(ContractCatalogue.suiteVersion)"))
}
