import Foundation
import HostAPI
import Logging
import ProviderHost
import Synchronization

/// Paths and fixtures shared by the tests.
enum TestSupport {
    /// The package root (two levels above this file's folder).
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Where SwiftPM put the built products (the test binary sits beside `libProviderProcess.so`).
    static let productsDirectory: URL = {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        for _ in 0..<4 where !FileManager.default.fileExists(atPath: directory.appendingPathComponent("libProviderProcess.so").path) {
            directory = directory.deletingLastPathComponent()
        }
        return directory
    }()

    static var processProviderPath: String { productsDirectory.appendingPathComponent("libProviderProcess.so").path }

    /// A fresh temporary directory.
    static func temporaryDirectory(_ label: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("molecule-test-\(label)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    private static let compiled = Mutex<[String: String]>([:])
    /// Held for a whole compilation, so concurrent tests never read a half-written object.
    private static let compileLock = NSLock()
    private static let buildDirectory = temporaryDirectory("cc")

    /// Compiles C sources into a shared object with `cc` (once per process) and returns its path.
    static func compileSharedObject(_ name: String, sources: [URL], extraFlags: [String] = [], include: String? = nil) throws -> String {
        compileLock.lock()
        defer { compileLock.unlock() }
        if let path = compiled.withLock({ $0[name] }) { return path }
        let output = buildDirectory.appendingPathComponent("\(name).so").path
        let include = include ?? repositoryRoot.appendingPathComponent("Sources/ProviderABI/include").path
        let (status, errors) = run(
            ["cc", "-std=c11", "-fPIC", "-shared", "-O1", "-Wall", "-Werror", "-I", include, "-o", output]
                + extraFlags + sources.map(\.path) + ["-lpthread"]
        )
        guard status == 0 else { throw CompileError(description: "cc failed for \(name): \(errors)") }
        compiled.withLock { $0[name] = output }
        return output
    }

    /// Runs a command to completion (posix_spawn + waitpid; Foundation's Process.waitUntilExit was seen to hang on
    /// the cooperative pool). Answers the exit status and output.
    static func run(_ arguments: [String]) -> (status: Int32, stderr: String) {
        let result = CommandRunner.run(arguments)
        return (result.status, result.output)
    }

    struct CompileError: Error, CustomStringConvertible { let description: String }

    /// A hostile provider from `Tests/HostileProviders/<name>.c`, compiled.
    static func hostile(_ name: String) throws -> String {
        try compileSharedObject("hostile-\(name)", sources: [repositoryRoot.appendingPathComponent("Tests/HostileProviders/\(name).c")])
    }

    /// The plain-C example provider, compiled.
    static func cExample() throws -> String {
        try compileSharedObject("libProviderCExample", sources: [repositoryRoot.appendingPathComponent("Examples/provider-c/provider.c")])
    }

    /// The plain-C example provider compiled against the frozen ABI 1.0 header (`Tests/Fixtures/abi-1.0`).
    static func abi10Fixture() throws -> String {
        try compileSharedObject(
            "libProviderABI10", sources: [repositoryRoot.appendingPathComponent("Examples/provider-c/provider.c")],
            include: repositoryRoot.appendingPathComponent("Tests/Fixtures/abi-1.0").path)
    }

    /// A logger that drops everything (tests assert on values, not on log lines).
    static let quietLogger: Logger = {
        var logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        logger.logLevel = .critical
        return logger
    }()
}
