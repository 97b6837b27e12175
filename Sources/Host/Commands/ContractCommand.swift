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
            Loads the provider through the same loader the Host uses and drives every v1 verb through the C ABI. \
            Exits 0 only if every claimed verb passes and every unclaimed verb answers exactly UNSUPPORTED.
            """
    )

    @Option(name: .long, help: "Path to the provider shared object (e.g. libProviderProcess.so).")
    var provider: String

    @Option(name: .long, help: "Contract configuration (YAML or JSON): config, unreachable, workload. ${VAR} is expanded.")
    var config: String?

    @Option(name: .long, help: "Write a JUnit XML report here.")
    var junit: String?

    @Option(name: .long, help: "Write the JSON result (with provenance) here; `molecule-host parity` reads it.")
    var json: String?

    @Option(name: .long, help: "Run only cases whose id contains this text.")
    var filter: String?

    func run() async throws {
        let library: ProviderLibrary
        do { library = try ProviderLibrary.load(path: provider) } catch {
            printError(error.description)
            throw ExitCode(2)
        }
        let configuration: ContractConfiguration
        do { configuration = try config.map { try ContractConfiguration.load(path: $0) } ?? ContractConfiguration() } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        let runner = ContractRunner(library: library, configuration: configuration, filter: filter) { line in print(line) }
        let report: ContractReport
        do { report = try await runner.run() } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        if let junit { try Data(JUnitReport.render(report).utf8).write(to: URL(fileURLWithPath: junit)) }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(report).write(to: URL(fileURLWithPath: json))
        }
        if !report.passed { throw ExitCode(1) }
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("molecule-host: \(message)\n".utf8))
}
