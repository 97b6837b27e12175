import ArgumentParser
import ContractSuite
import Foundation
import ProviderHost
import ProviderWire

/// `molecule-host contract`: the conformance suite against one provider `.so`.
struct ContractCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contract",
        abstract: "Run the provider conformance suite against a provider shared object.",
        discussion: """
            Loads the provider through the same loader the Host uses, in a runner process of its own, and drives every \
            verb through the C ABI. A crash, exit or hang of the provider fails that case with the reason and the run goes \
            on; the reports are always written (also on SIGTERM/SIGINT, with what ran). Cases belong to profiles (lifecycle, \
            core, pause, snapshot, plugins, diagnose); a profile passes only when every case of it passed. Exits 0 only if \
            no case failed and every claimed profile passed (and, in a complete run, every claimed verb was proven and every \
            unclaimed verb answered exactly UNSUPPORTED). The report format is documented in docs/conformance.md.
            """
    )

    @Option(name: .long, help: "Path to the provider shared object (e.g. libProviderProcess.so).")
    var provider: String?

    @Flag(name: .long, help: "Print the catalogue (profiles and cases, as docs/conformance.md shows it) and exit.")
    var list = false

    @Option(name: .long, help: "Contract configuration (YAML or JSON): config, unreachable, workload. ${VAR} is expanded.")
    var config: String?

    @Option(name: .long, help: "Write a JUnit XML report here.")
    var junit: String?

    @Option(name: .long, help: "Write the conformance report (JSON, docs/conformance.md) here; `molecule-host parity` reads it.")
    var report: String?

    @Option(name: .long, help: "The same as --report (kept for older scripts).")
    var json: String?

    @Option(name: .long, help: "Run only these cases: a case id, an id prefix ending in '.' or '*', or a tag (repeatable, or comma-separated).")
    var filter: [String] = []

    @Option(name: .long, help: "Run only the cases of these profiles and those they include (repeatable, or comma-separated).")
    var profile: [String] = []

    @Flag(name: .long, help: "Stop at the first failed case (the rest are reported not run).")
    var failFast = false

    @Option(name: .long, help: "The report's column name in the parity matrix (default: the provider's name), e.g. 'docker (podman)'.")
    var label: String?

    @Flag(name: .long, help: "Load the provider into this process instead of a runner process (a crash then ends the run).")
    var inProcess = false

    @Option(name: .long, help: "How long past a verb's deadline a hung provider gets before its runner is killed, ms.")
    var killGraceMs = 1000

    @Option(name: .long, help: "Bound on loading the library (its constructors and negotiate) and on create, ms each.")
    var loadTimeoutMs = 10_000

    func run() async throws {
        if list {
            print("Contract suite \(ContractCatalogue.suiteVersion)\n" + ContractCatalogue.markdown())
            return
        }
        guard let provider else {
            printError("--provider is required (or --list)")
            throw ExitCode(2)
        }
        let configuration: ContractConfiguration
        do { configuration = try config.map { try ContractConfiguration.load(path: $0) } ?? ContractConfiguration() } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        // The provider runs in a runner process: whatever it does, this run ends with a verdict and its reports.
        let launch = ProviderLaunch(
            path: provider, isolation: inProcess ? .inProcess : .process, threads: 16,
            loadTimeout: .milliseconds(loadTimeoutMs), createTimeout: .milliseconds(loadTimeoutMs),
            runner: RunnerOptions(killGrace: .milliseconds(killGraceMs), restartBackoff: .milliseconds(20), maxRestartBackoff: .milliseconds(500))
        )
        let selection = ContractSelection(filters: filter, profiles: profile)
        if !selection.unknownProfiles.isEmpty {
            printError(
                "unknown profile \(selection.unknownProfiles.joined(separator: ", ")); the profiles are \(ContractProfile.all.map(\.id).joined(separator: ", "))"
            )
            throw ExitCode(2)
        }
        let runner = ContractRunner(launch: launch, configuration: configuration, selection: selection, failFast: failFast, label: label) {
            line in
            // Written at once, not through stdio's buffer: a CI log or a pipe shows each case as it finishes.
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
        let interruption = SignalInterruption { signal in
            // SIGTERM/SIGINT: the partial report, then a failing exit (the runner process dies with this one).
            print("interrupted by \(signal): writing the partial report")
            self.write(runner.partialReport(interrupted: "the run was interrupted by \(signal) before it finished"))
            Foundation.exit(1)
        }
        let report = await runner.run()
        interruption.cancel()
        write(report)
        if !report.passed { throw ExitCode(1) }
    }

    func write(_ report: ContractReport) {
        do {
            if let junit { try Data(JUnitReport.render(report).utf8).write(to: URL(fileURLWithPath: junit)) }
            for path in [self.report, json].compactMap({ $0 }) {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                try encoder.encode(report).write(to: URL(fileURLWithPath: path))
            }
        } catch {
            printError("could not write the report: \(error)")
        }
    }
}

/// Runs `handler` once when SIGTERM or SIGINT arrives (the default dispositions are replaced until ``cancel()``).
final class SignalInterruption: @unchecked Sendable {
    /// Set once in init, only cancelled afterwards (dispatch sources are thread-safe).
    private let sources: [any DispatchSourceSignal]

    init(_ handler: @escaping @Sendable (String) -> Void) {
        let queue = DispatchQueue(label: "molecule.contract.signals")
        sources = [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")].map { signalNumber, name in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler { handler(name) }
            source.resume()
            return source
        }
    }

    func cancel() { sources.forEach { $0.cancel() } }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("molecule-host: \(message)\n".utf8))
}
