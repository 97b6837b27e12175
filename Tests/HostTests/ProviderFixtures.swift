import Foundation
import HostAPI

/// Provider libraries the Host tests load (compiled from the repository's C sources).
enum ProviderFixtures {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var built: String?

    /// The plain-C example provider, compiled once per process.
    static func cExample() throws -> String {
        try lock.withLock {
            if let built { return built }
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("molecule-hosttests-\(getpid())-cexample.so").path
            let include = TestDatabase.root.appendingPathComponent("Sources/ProviderABI/include").path
            let source = TestDatabase.root.appendingPathComponent("Examples/provider-c/provider.c").path
            let result = CommandRunner.run(["cc", "-std=c11", "-fPIC", "-shared", "-O1", "-I", include, "-o", output, source, "-lpthread"])
            guard result.status == 0 else { throw HarnessError("cc failed: \(result.output)") }
            built = output
            return output
        }
    }

    nonisolated(unsafe) private static var hostiles: [String: String] = [:]

    /// A hostile provider from `Tests/HostileProviders/<name>.c`, compiled once per process.
    static func hostile(_ name: String) throws -> String {
        try lock.withLock {
            if let built = hostiles[name] { return built }
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("molecule-hosttests-\(getpid())-\(name).so").path
            let include = TestDatabase.root.appendingPathComponent("Sources/ProviderABI/include").path
            let source = TestDatabase.root.appendingPathComponent("Tests/HostileProviders/\(name).c").path
            let result = CommandRunner.run(["cc", "-std=c11", "-fPIC", "-shared", "-O1", "-I", include, "-o", output, source, "-lpthread"])
            guard result.status == 0 else { throw HarnessError("cc failed for \(name): \(result.output)") }
            hostiles[name] = output
            return output
        }
    }
}
