import Foundation
import ProviderKit
import ProviderWire
import Testing

@testable import ProviderEC2

/// ProviderKit's shared policy pieces (this is the pure-logic target that links ProviderKit): the file policy's three
/// observers (lstat, the shell the EC2 provider runs remotely) agree on every kind of path, and ``Poll`` waits as
/// documented.
struct FilePolicyTests {
    /// A scratch files root with a file, a directory, a fifo and links in and out of it.
    static func makeTree() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString)")
        let files = FileManager.default
        try files.createDirectory(at: root.appendingPathComponent("dir/sub"), withIntermediateDirectories: true)
        try Data("hello".utf8).write(to: root.appendingPathComponent("dir/file.txt"))
        try files.createSymbolicLink(atPath: root.appendingPathComponent("up").path, withDestinationPath: "..")
        try files.createSymbolicLink(atPath: root.appendingPathComponent("inside").path, withDestinationPath: "dir")
        try files.createSymbolicLink(atPath: root.appendingPathComponent("dir/file-link").path, withDestinationPath: "file.txt")
        #expect(mkfifo(root.appendingPathComponent("dir/fifo").path, 0o600) == 0)
        return root
    }

    static let paths = [
        "", "dir", "dir/sub", "dir/file.txt", "dir/file.txt/child", "dir/missing", "dir/missing/deeper", "missing", "up", "up/x",
        "inside", "inside/file.txt", "dir/file-link", "dir/fifo", "dir/fifo/x",
    ]

    /// What the shell gate answers for `operation` on `path`: nil when it lets the script go on.
    static func shellOutcome(root: URL, _ operation: FilePolicy.Operation, _ path: RelativePath) throws -> FilePolicy.Observation? {
        let gate = FilePolicy.shellGate(operation, path: path, root: "\"$ROOT\"", quote: \.shellQuoted)
        let script = "set -eu; ROOT=\(root.path.shellQuoted)\n\(FilePolicy.shellFunctions)\(gate)\necho permitted"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus == 0 {
            #expect(String(decoding: output, as: UTF8.self).hasSuffix("permitted\n"))
            return nil
        }
        guard let observed = FilePolicy.observation(exitStatus: Int(process.terminationStatus), output: [UInt8](output)) else {
            Issue.record("the gate for \(operation) on \"\(path)\" exited \(process.terminationStatus), not a policy status")
            return nil
        }
        return observed
    }

    @Test func theShellGateAndTheLocalObserverAnswerAlikeForEveryOperation() throws {
        let root = try Self.makeTree()
        defer { try? FileManager.default.removeItem(at: root) }
        let local = LocalFilesRoot(path: root.path)
        for raw in Self.paths {
            let path = try RelativePath(raw, allowRoot: true)
            for operation in FilePolicy.Operation.allCases {
                let expected: FilePolicy.Violation?
                do throws(FilePolicy.Violation) {
                    _ = try local.resolve(path, for: operation)
                    expected = nil
                } catch {
                    expected = error
                }
                var answered: FilePolicy.Violation?
                if let observed = try Self.shellOutcome(root: root, operation, path) {
                    do throws(FilePolicy.Violation) {
                        try FilePolicy.check(operation, observed, path: path)
                        Issue.record("the shell refused \(operation) on \"\(raw)\" but the policy permits \(observed)")
                    } catch {
                        answered = error
                    }
                }
                #expect(
                    answered == expected, "\(operation) on \"\(raw)\": shell \(String(describing: answered)), local \(String(describing: expected))")
            }
        }
    }

    @Test func everyRefusalHasOneStatusAndLinksAreNeverFollowed() throws {
        let root = try Self.makeTree()
        defer { try? FileManager.default.removeItem(at: root) }
        let local = LocalFilesRoot(path: root.path)
        func status(_ raw: String, _ operation: FilePolicy.Operation) throws -> ProviderStatus {
            let path = try RelativePath(raw, allowRoot: true)
            do throws(FilePolicy.Violation) {
                _ = try local.resolve(path, for: operation)
                return .ok
            } catch {
                return error.providerError.status
            }
        }
        for raw in ["up", "up/x", "inside", "inside/file.txt", "dir/file-link"] {
            for operation in FilePolicy.Operation.allCases { #expect(try status(raw, operation) == .invalidArgument, "\(operation) \(raw)") }
        }
        #expect(try status("dir", .read) == .invalidArgument && status("dir", .write) == .invalidArgument && status("dir", .delete) == .ok)
        #expect(try status("dir/fifo", .read) == .invalidArgument && status("dir/fifo", .delete) == .ok)
        #expect(try status("dir/file.txt/child", .write) == .invalidArgument && status("dir/file.txt/child", .read) == .notFound)
        #expect(try status("dir/missing/deeper", .write) == .ok && status("missing", .read) == .notFound && status("missing", .list) == .notFound)
        #expect(try status("dir/file.txt", .list) == .invalidArgument && status("", .list) == .ok)
        #expect(FilePolicy.entry(path: "d", node: .directory) == FileEntry(path: "d", size: 0, dir: true))
        #expect(FilePolicy.entry(path: "l", node: .link) == FileEntry(path: "l", size: 0, dir: false))
    }

    @Test func pollAnswersTheFirstValueBacksOffAndStopsAtTheDeadline() {
        var calls = 0
        let value = Poll.until(deadline: MonotonicClock.deadline(afterMilliseconds: 5000), initialDelay: .milliseconds(1), maxDelay: .milliseconds(4))
        {
            calls += 1
            return calls == 5 ? calls : nil
        }
        #expect(value == 5)
        let started = MonotonicClock.now()
        calls = 0
        let none: Int? = Poll.until(
            deadline: MonotonicClock.deadline(afterMilliseconds: 100), initialDelay: .milliseconds(10), maxDelay: .milliseconds(40)
        ) {
            calls += 1
            return nil
        }
        let elapsedMs = (MonotonicClock.now() - started) / 1_000_000
        #expect(none == nil && elapsedMs >= 100 && elapsedMs < 1000, "\(elapsedMs) ms")
        // 10, 20, 40, 40 … ms: a handful of attempts, not one per millisecond.
        #expect(calls >= 3 && calls <= 8, "\(calls) attempts")
        var cancelledCalls = 0
        let cancelled: Int? = Poll.until(
            deadline: MonotonicClock.deadline(afterMilliseconds: 5000), initialDelay: .milliseconds(1), maxDelay: .milliseconds(1),
            isCancelled: { true }
        ) {
            cancelledCalls += 1
            return nil
        }
        #expect(cancelled == nil && cancelledCalls == 1)
    }
}
