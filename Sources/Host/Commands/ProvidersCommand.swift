import ArgumentParser
import Foundation
import ProviderHost
import ProviderWire

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `molecule-host providers`: look at provider libraries.
struct ProvidersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "providers",
        abstract: "Inspect provider shared objects; list or hot-reload the providers of a running Host.",
        subcommands: [Inspect.self, List.self, Reload.self, New.self]
    )

    /// Where the running Host is and how to authenticate (`ADMIN_TOKEN`).
    struct HostOptions: ParsableArguments {
        @Option(name: .long, help: "The running Host's URL.")
        var host: String = ProcessInfo.processInfo.environment["PLATFORM_URL"] ?? "http://127.0.0.1:8080"

        func request(_ method: String, _ path: String, body: [String: String]? = nil) async throws -> Data {
            guard let url = URL(string: host + path) else { throw ValidationError("--host \(host) is not a URL") }
            var request = URLRequest(url: url, timeoutInterval: 120)
            request.httpMethod = method
            if let token = ProcessInfo.processInfo.environment["ADMIN_TOKEN"], !token.isEmpty {
                request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            }
            if let body {
                request.httpBody = try JSONSerialization.data(withJSONObject: body)
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            }
            let (data, response) = try await URLSession.shared.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            guard (200..<300).contains(status) else {
                printError("\(method) \(path): HTTP \(status): \(String(decoding: data, as: UTF8.self))")
                throw ExitCode(1)
            }
            return data
        }
    }

    /// `molecule-host providers list`: what a running Host loaded, with isolation, runner pid, restarts, last crash.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a running Host's providers (GET /admin/providers).")
        @OptionGroup var options: HostOptions

        func run() async throws {
            let data = try await options.request("GET", "/admin/providers")
            let object = try JSONSerialization.jsonObject(with: data)
            print(
                String(
                    decoding: try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]),
                    as: UTF8.self))
        }
    }

    /// `molecule-host providers reload NAME [--path NEW.so]`.
    struct Reload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hot-reload a provider of a running Host.",
            discussion: """
                The Host loads the library (the configured one, or --path) in a fresh runner, negotiates and creates it, \
                then switches new calls to it while calls in flight finish on the old one. A library that fails to load \
                leaves the old one serving.
                """
        )
        @Argument(help: "The provider's name.")
        var name: String
        @Option(name: .long, help: "Load this shared object instead of the configured one.")
        var path: String?
        @OptionGroup var options: HostOptions

        func run() async throws {
            let data = try await options.request("POST", "/admin/providers/\(name)/reload", body: path.map { ["path": $0] } ?? [:])
            print(String(decoding: data, as: UTF8.self))
        }
    }

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
                print("abi_negotiated: \(library.abiVersion).\(library.abiMinor)")
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

    /// `providers new NAME --lang swift|c`: a provider project for a platform team.
    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new",
            abstract: "Scaffold a provider project: ABI plumbing, a stub backend to replace, a contract configuration and a CI script.",
            discussion: """
                The project builds as written and passes the contract suite's `core` profile with its stub backend (a local \
                directory standing in for a real one: replace the functions it names). Swift: a package depending on \
                ProviderKit (set MOLECULE_HOST_PACKAGE_URL to use a mirror). C: a Makefile, a copy of molecule_provider.h and \
                plain C11 sources. Then run ./ci.sh.
                """
        )

        @Argument(help: "The provider's name: lowercase letters, digits and '-', starting with a letter (e.g. acme-cloud).")
        var name: String

        @Option(name: .long, help: "swift or c.")
        var lang: String

        @Option(name: .long, help: "The directory to create (default: ./NAME); it must not exist or be empty.")
        var output: String?

        func run() throws {
            guard let language = ScaffoldLanguage(rawValue: lang) else {
                printError("--lang must be \(ScaffoldLanguage.allCases.map(\.rawValue).joined(separator: " or ")), not \"\(lang)\"")
                throw ExitCode(2)
            }
            let directory = URL(fileURLWithPath: output ?? name)
            do {
                let files = try Scaffold(name: name, language: language).write(to: directory)
                print("created \(directory.path) (\(language.rawValue), \(files.count) files):")
                for file in files { print("  \(file)") }
                print("next: cd \(directory.path) && MOLECULE_HOST=\(CommandLine.arguments[0]) ./ci.sh")
            } catch {
                printError(error.description)
                throw ExitCode(2)
            }
        }
    }
}
