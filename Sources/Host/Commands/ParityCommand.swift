import ArgumentParser
import ContractSuite
import Foundation

/// `molecule-host parity`: renders verbs × providers from contract results.
struct ParityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parity",
        abstract: "Render the parity matrix (profiles and verbs × providers) from conformance reports."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case markdown
        case json
    }

    @Argument(help: "Conformance reports written by `molecule-host contract --report`.")
    var results: [String]

    @Option(name: .long, help: "markdown or json.")
    var format: Format = .markdown

    @Option(name: .long, help: "Write to this file instead of standard output.")
    var output: String?

    func run() throws {
        var reports: [ContractReport] = []
        for path in results {
            guard let data = FileManager.default.contents(atPath: path) else {
                printError("cannot read \(path)")
                throw ExitCode(2)
            }
            do { reports.append(try JSONDecoder().decode(ContractReport.self, from: data)) } catch {
                printError("\(path) is not a contract result: \(error)")
                throw ExitCode(2)
            }
        }
        let matrix = ParityMatrix(reports: reports)
        let text: String
        switch format {
        case .markdown: text = matrix.markdown()
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            text = String(decoding: try encoder.encode(matrix), as: UTF8.self) + "\n"
        }
        if let output { try Data(text.utf8).write(to: URL(fileURLWithPath: output)) } else { print(text, terminator: "") }
    }
}
