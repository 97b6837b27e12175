import Foundation
import ProviderHost
import ProviderWire

/// The console log: tail and cursor (part of `core`). The configured workload prints at least two lines when it
/// starts (every example configuration's does); the cases wait for them at most 20 s.
extension ContractCatalogue {
    static let logs: [ContractCase] = [
        ContractCase(
            "logs.non-empty", "the console log holds what the workload printed at start, and answers a non-empty cursor",
            profile: .core, exercises: [.logs], requires: [.provision, .logs]
        ) { run in
            let id = run.newWorkspaceId("logs")
            try await run.provision(id)
            let logs = try await ConsoleLog.waitForLines(run, id, 1)
            try run.expect(!logs.cursor.isEmpty, "logs answered an empty cursor")
            _ = try await run.stop(id)
        },
        ContractCase(
            "logs.tail-lines", "tail_lines N answers the last N lines of the log, whole",
            profile: .core, exercises: [.logs], requires: [.provision, .logs]
        ) { run in
            let id = run.newWorkspaceId("tail")
            try await run.provision(id)
            let full = try await ConsoleLog.waitForLines(run, id, 2)
            let lines = ConsoleLog.lines(full.content)
            let tail: LogsResponse = try await run.ok(.logs, LogsRequest(workspaceId: id, tailLines: 1))
            try run.expect(
                ConsoleLog.lines(tail.content) == [lines.last!], "tail_lines 1 answered \(ConsoleLog.lines(tail.content)), expected [\(lines.last!)]")
            let two: LogsResponse = try await run.ok(.logs, LogsRequest(workspaceId: id, tailLines: 2))
            try run.expect(
                ConsoleLog.lines(two.content) == Array(lines.suffix(2)),
                "tail_lines 2 answered \(ConsoleLog.lines(two.content)), expected \(Array(lines.suffix(2)))")
            _ = try await run.stop(id)
        },
        ContractCase(
            "logs.cursor",
            "with a cursor, logs answers only what came after it (nothing twice) and a cursor to go on from; a cursor the provider never issued is INVALID_ARGUMENT",
            profile: .core, exercises: [.logs], requires: [.provision, .logs]
        ) { run in
            let id = run.newWorkspaceId("cursor")
            try await run.provision(id)
            let first = try await ConsoleLog.waitForLines(run, id, 2)
            let seen = ConsoleLog.lines(first.content)
            let next: LogsResponse = try await run.ok(.logs, LogsRequest(workspaceId: id, cursor: first.cursor))
            let repeated = ConsoleLog.lines(next.content).filter(seen.contains)
            try run.expect(repeated.isEmpty, "logs after the cursor answered lines it had already answered: \(repeated)")
            try run.expect(!next.cursor.isEmpty, "logs with a cursor answered an empty cursor")
            let again: LogsResponse = try await run.ok(.logs, LogsRequest(workspaceId: id, cursor: next.cursor))
            try run.expect(ConsoleLog.lines(again.content).filter(seen.contains).isEmpty, "logs after the second cursor repeated earlier lines")
            try await run.expectError(
                .invalidArgument, .logs, LogsRequest(workspaceId: id, cursor: "not-a-cursor-\(run.runId)"), "logs with a cursor it never issued")
            _ = try await run.stop(id)
        },
    ]
}

/// Reading the console log in the log cases.
enum ConsoleLog {
    static func lines(_ content: String) -> [String] {
        content.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    /// The whole log (`tail_lines` 1000) once it has at least `count` lines; fails after 20 s.
    static func waitForLines(_ run: ContractRun, _ id: String, _ count: Int) async throws -> LogsResponse {
        let deadline = ContinuousClock.now + .seconds(20)
        var logs = LogsResponse(content: "", cursor: "")
        while ContinuousClock.now < deadline {
            logs = try await run.ok(.logs, LogsRequest(workspaceId: id, tailLines: 1000))
            if lines(logs.content).count >= count { return logs }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ContractFailure(
            "the log has \(lines(logs.content).count) line(s) after 20 s; the configured workload must print at least \(count) at start (the contract configuration's workload.command)"
        )
    }
}
