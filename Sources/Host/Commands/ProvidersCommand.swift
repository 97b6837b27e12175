import ArgumentParser
import Foundation
import ProviderHost
import ProviderWire

/// `molecule-host providers`: look at provider libraries.
struct ProvidersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "providers",
        abstract: "Inspect provider shared objects.",
        subcommands: [Inspect.self]
    )

    /// `molecule-host providers inspect PATH`.
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a provider's manifest.",
            discussion: """
                Reads the manifest from the library's ELF note without loading it when the note is present; \
                otherwise (or with --load) loads and negotiates to read it. --no-load never runs provider code.
                """
        )

        @Argument(help: "Path to the provider shared object.")
        var path: String

        @Flag(name: .long, inversion: .prefixedNo, help: "Load the library when it has no manifest note (default: yes).")
        var load: Bool = true

        func run() throws {
            let note: ELFManifestNote
            do { note = try ELFManifestNote(path: path) } catch {
                printError("provider \(path): not a shared object (\(error.description))")
                throw ExitCode(2)
            }
            if let json = note.manifestJSON {
                print("source: ELF note .note.molecule.provider (read without loading)")
                try printManifest(json)
                return
            }
            guard load else {
                printError("provider \(path) has no manifest note; run without --no-load to load it and negotiate")
                throw ExitCode(2)
            }
            do {
                let library = try ProviderLibrary.load(path: path)
                print("source: negotiation (the library has no manifest note)")
                print("abi_negotiated: \(library.abiVersion)")
                print("load_ms: \(String(format: "%.3f", Double(library.loadNanoseconds) / 1e6))")
                try printManifest(library.manifestJSON)
            } catch {
                printError("\(error)")
                throw ExitCode(2)
            }
        }

        func printManifest(_ json: String) throws {
            let object = try JSONSerialization.jsonObject(with: Data(json.utf8))
            let pretty = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: pretty, as: UTF8.self))
        }
    }
}
