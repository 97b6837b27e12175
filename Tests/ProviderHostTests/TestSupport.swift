import Foundation
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
    static func compileSharedObject(_ name: String, sources: [URL], extraFlags: [String] = []) throws -> String {
        compileLock.lock()
        defer { compileLock.unlock() }
        if let path = compiled.withLock({ $0[name] }) { return path }
        let output = buildDirectory.appendingPathComponent("\(name).so").path
        let include = repositoryRoot.appendingPathComponent("Sources/ProviderABI/include").path
        let (status, errors) = run(
            ["cc", "-std=c11", "-fPIC", "-shared", "-O1", "-Wall", "-Werror", "-I", include, "-o", output]
                + extraFlags + sources.map(\.path) + ["-lpthread"]
        )
        guard status == 0 else { throw CompileError(description: "cc failed for \(name): \(errors)") }
        compiled.withLock { $0[name] = output }
        return output
    }

    /// Runs a command (looked up in PATH) to completion with posix_spawn + waitpid; answers its exit status and stderr.
    /// (Foundation's Process.waitUntilExit spins a run loop and was seen to hang on the cooperative pool.)
    static func run(_ arguments: [String]) -> (status: Int32, stderr: String) {
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("molecule-test-stderr-\(UUID().uuidString)").path
        defer { unlink(errorFile) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 2, errorFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ) == 0 else { return (127, "cannot run \(arguments[0])") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let errors = (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? ""
        return ((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f), errors)
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

    /// A logger that drops everything (tests assert on values, not on log lines).
    static let quietLogger: Logger = {
        var logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        logger.logLevel = .critical
        return logger
    }()
}
