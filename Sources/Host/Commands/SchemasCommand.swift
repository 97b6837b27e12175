import ArgumentParser
import Foundation
import ProviderWire

/// `molecule-host schemas`: writes the JSON Schema of every verb's request and response (docs/schemas), derived from
/// the ProviderWire types the Host and every Swift provider decode with — the doc and the contract suite point at them.
struct SchemasCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schemas",
        abstract: "Write the JSON Schemas of every provider verb's request and response (docs/schemas/<verb>.{request,response}.json)."
    )

    @Option(name: .long, help: "The directory to write into.")
    var output = "docs/schemas"

    @Flag(name: .long, help: "Write nothing; exit 1 if a file in --output differs from what would be written.")
    var check = false

    func run() throws {
        var stale: [String] = []
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        for verb in Verb.allCases {
            for response in [false, true] {
                let path = "\(output)/\(verb.wireName).\(response ? "response" : "request").json"
                let text = WireSchemas.document(of: verb, response: response)
                if check {
                    if (try? String(contentsOfFile: path, encoding: .utf8)) != text { stale.append(path) }
                } else {
                    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
                }
            }
        }
        if !stale.isEmpty {
            printError("stale schemas (run `molecule-host schemas`): \(stale.joined(separator: ", "))")
            throw ExitCode(1)
        }
    }
}
