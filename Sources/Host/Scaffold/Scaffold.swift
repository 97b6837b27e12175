import Foundation

/// The languages `molecule-host providers new` scaffolds.
enum ScaffoldLanguage: String, CaseIterable, Sendable {
    /// A Swift package depending on ProviderKit.
    case swift
    /// A Makefile, a copy of the ABI header and C sources.
    case c
}

/// One file of a template: its path and contents may hold the tokens ``Scaffold/Tokens``.
struct ScaffoldFile: Sendable {
    let path: String
    let executable: Bool
    let contents: String
}

/// Why a scaffold could not be written.
enum ScaffoldError: Error, CustomStringConvertible {
    case badName(String)
    case notEmpty(String)
    case write(String, String)

    var description: String {
        switch self {
        case .badName(let name):
            "provider name \"\(name)\" must be 1-40 characters: a lowercase letter, then lowercase letters, digits or '-' (it names the library and the manifest)"
        case .notEmpty(let path): "\(path) exists and is not empty; choose another --output"
        case .write(let path, let reason): "could not write \(path): \(reason)"
        }
    }
}

/// Writes a new provider project: the ABI plumbing, a stub backend the author replaces, a contract configuration and
/// a CI script — a project that builds and passes the `core` profile as it is.
struct Scaffold {
    let name: String
    let language: ScaffoldLanguage

    /// `__PROVIDER__` the name (`acme-cloud`), `__PROVIDER_C__` it as a C identifier (`acme_cloud`), `__TYPE__` it in
    /// UpperCamelCase (`AcmeCloud`).
    var tokens: [(String, String)] {
        let words = name.split(separator: "-")
        let type = words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        return [("__PROVIDER_C__", name.replacingOccurrences(of: "-", with: "_")), ("__PROVIDER__", name), ("__TYPE__", type)]
    }

    init(name: String, language: ScaffoldLanguage) throws(ScaffoldError) {
        let allowed = name.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
        guard (1...40).contains(name.utf8.count), allowed, let first = name.utf8.first, (0x61...0x7A).contains(first), !name.hasSuffix("-") else {
            throw .badName(name)
        }
        self.name = name
        self.language = language
    }

    func substitute(_ text: String) -> String {
        tokens.reduce(text) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
    }

    /// Writes every file below `directory` (created; it must be absent or empty) and answers the paths written.
    func write(to directory: URL) throws(ScaffoldError) -> [String] {
        let manager = FileManager.default
        if let existing = try? manager.contentsOfDirectory(atPath: directory.path), !existing.isEmpty { throw .notEmpty(directory.path) }
        var written: [String] = []
        for file in ScaffoldTemplates.files[language] ?? [] {
            var path = substitute(file.path)
            if path.hasSuffix(".template") { path.removeLast(".template".count) }
            let target = directory.appendingPathComponent(path)
            do {
                try manager.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(substitute(file.contents).utf8).write(to: target)
                try manager.setAttributes([.posixPermissions: file.executable ? 0o755 : 0o644], ofItemAtPath: target.path)
            } catch { throw .write(target.path, "\(error)") }
            written.append(path)
        }
        return written
    }
}
