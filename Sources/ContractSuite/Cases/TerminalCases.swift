import Foundation
import ProviderHost
import ProviderWire

/// The `terminal` profile (ABI 1.1): sessions on a pty, read by cursor.
extension ContractCatalogue {
    static let terminal: [ContractCase] = [
        ContractCase(
            "session.shell", "a shell session takes input, answers output by cursor (raw bytes too), and reports its exit code",
            profile: .terminal, exercises: [.sessionOpen, .sessionWrite, .sessionRead, .sessionClose], requires: [.provision, .sessionOpen]
        ) { run in
            let id = run.newWorkspaceId("term")
            try await run.provision(id)
            let session = try await run.openSession(id, ["/bin/sh"])
            try await session.write("echo contract-$((6*7))\n")
            // The shell computed it: the echoed input holds "$((6*7))", never "contract-42".
            try await session.read(until: "contract-42", "the shell's answer")
            try await session.write("printf '\\377\\376raw'; echo\n")
            let raw = try await session.read(untilBytes: [0xff, 0xfe] + Array("raw".utf8), "raw bytes from printf")
            try run.expect(!raw.isEmpty, "no raw bytes")
            try await session.write("exit 5\n")
            let ended = try await session.readUntilExit()
            try run.expect(ended == 5, "the session exited \(ended.map(String.init) ?? "without a code"), expected 5")
            try await run.expectError(
                .conflict, .sessionWrite, SessionWriteRequest(workspaceId: id, sessionId: session.id, dataBase64: "eA=="),
                "writing to an exited session")
            let closed: SessionStatusResponse = try await run.ok(.sessionClose, SessionRef(workspaceId: id, sessionId: session.id))
            try run.expect(closed.closed == true, "session_close of an open session answered closed: \(String(describing: closed.closed))")
            let again: SessionStatusResponse = try await run.ok(.sessionClose, SessionRef(workspaceId: id, sessionId: session.id))
            try run.expect(again.closed == false, "closing a closed session answered closed: \(String(describing: again.closed))")
            try await run.expectError(
                .notFound, .sessionRead, SessionReadRequest(workspaceId: id, sessionId: session.id, cursor: 0), "reading a closed session")
            _ = try await run.stop(id)
        },
        ContractCase(
            "session.pty-resize", "the command runs on a terminal of the requested size, and session_resize changes it",
            profile: .terminal, exercises: [.sessionOpen, .sessionResize], requires: [.provision, .sessionOpen]
        ) { run in
            let id = run.newWorkspaceId("termsize")
            try await run.provision(id)
            let session = try await run.openSession(id, ["/bin/sh"], cols: 101, rows: 31)
            try await session.write("test -t 0 && echo is-a-tty; stty size\n")
            try await session.read(until: "is-a-tty", "a terminal on stdin")
            try await session.read(until: "31 101", "stty size of the opened size")
            let _: SessionStatusResponse = try await run.ok(
                .sessionResize, SessionResizeRequest(workspaceId: id, sessionId: session.id, cols: 120, rows: 40))
            try await session.write("stty size\n")
            try await session.read(until: "40 120", "stty size after session_resize")
            try await run.expectError(
                .invalidArgument, .sessionResize, SessionResizeRequest(workspaceId: id, sessionId: session.id, cols: 0, rows: 40), "a zero width")
            try await session.close()
            _ = try await run.stop(id)
        },
        ContractCase(
            "session.cursor", "reads by cursor give every byte once, in order, in pieces of max_bytes; an idle read waits wait_ms and no more",
            profile: .terminal, exercises: [.sessionRead], requires: [.provision, .sessionOpen]
        ) { run in
            let id = run.newWorkspaceId("termcursor")
            try await run.provision(id)
            let session = try await run.openSession(id, ["sh", "-c", "i=0; while [ $i -lt 400 ]; do echo line-$i; i=$((i+1)); done; sleep 30"])
            var collected: [UInt8] = []
            var cursor: Int64 = 0
            let expected = (0..<400).map { "line-\($0)\r\n" }.joined()
            for _ in 0..<2000 where collected.count < expected.utf8.count {
                let piece: SessionReadResponse = try await run.ok(
                    .sessionRead, SessionReadRequest(workspaceId: id, sessionId: session.id, cursor: cursor, waitMs: 1000, maxBytes: 100))
                let data = Array(Data(base64Encoded: piece.dataBase64) ?? Data())
                try run.expect(data.count <= 100, "a read with max_bytes 100 answered \(data.count) bytes")
                try run.expect(piece.cursor == cursor + Int64(data.count), "the cursor moved by \(piece.cursor - cursor) for \(data.count) bytes")
                try run.expect(piece.dropped == 0, "\(piece.dropped) bytes were dropped from a 4 KB stream")
                collected += data
                cursor = piece.cursor
            }
            try run.expect(
                String(decoding: collected, as: UTF8.self) == expected, "the bytes read by cursor are not the 400 lines, in order, once each")
            let started = ContinuousClock.now
            let idle: SessionReadResponse = try await run.ok(
                .sessionRead, SessionReadRequest(workspaceId: id, sessionId: session.id, cursor: cursor, waitMs: 700))
            let waited = ContinuousClock.now - started
            try run.expect(idle.dataBase64.isEmpty && !idle.exited, "an idle session answered data or an exit")
            try run.expect(waited >= .milliseconds(600) && waited < .seconds(5), "an idle read with wait_ms 700 answered after \(waited)")
            try await run.expectError(
                .invalidArgument, .sessionRead, SessionReadRequest(workspaceId: id, sessionId: session.id, cursor: cursor + 1_000_000),
                "a cursor past the end")
            try await session.close()
            _ = try await run.stop(id)
        },
        ContractCase(
            "session.concurrent", "two sessions of one workspace run at once, each with only its own input and output",
            profile: .terminal, exercises: [.sessionOpen, .sessionWrite, .sessionRead], requires: [.provision, .sessionOpen]
        ) { run in
            let id = run.newWorkspaceId("termtwo")
            try await run.provision(id)
            let first = try await run.openSession(id, ["/bin/sh"])
            let second = try await run.openSession(id, ["/bin/sh"])
            try run.expect(first.id != second.id, "two sessions got the same id")
            try await first.write("echo first-$((1+1))\n")
            try await second.write("echo second-$((2+2))\n")
            let one = try await first.read(until: "first-2", "the first session's answer")
            let two = try await second.read(until: "second-4", "the second session's answer")
            try run.expect(!one.contains("second-4") && !two.contains("first-2"), "output crossed between sessions")
            try await first.close()
            try await second.write("echo still-$((3+3))\n")
            try await second.read(until: "still-6", "the second session after the first closed")
            try await second.close()
            _ = try await run.stop(id)
        },
        ContractCase(
            "session.stop-ends", "stopping the workspace ends its sessions: a read answers exited or NOT_FOUND, promptly",
            profile: .terminal, exercises: [.sessionOpen, .stop], requires: [.provision, .stop, .sessionOpen]
        ) { run in
            let id = run.newWorkspaceId("termstop")
            try await run.provision(id)
            let session = try await run.openSession(id, ["/bin/sh"])
            try await session.write("echo alive-$((5*5))\n")
            try await session.read(until: "alive-25", "the session before stop")
            _ = try await run.stop(id)
            let deadline = ContinuousClock.now + .seconds(15)
            var ended = false
            while !ended, ContinuousClock.now < deadline {
                do {
                    let piece: SessionReadResponse = try await run.ok(
                        .sessionRead, SessionReadRequest(workspaceId: id, sessionId: session.id, cursor: session.cursor, waitMs: 500))
                    session.cursor = piece.cursor
                    ended = piece.exited
                } catch let failure as ContractFailure where failure.description.contains("NOT_FOUND") {
                    ended = true
                }
            }
            try run.expect(ended, "the session still ran 15 s after its workspace stopped")
        },
        ContractCase(
            "session.bad-input", "sessions refuse what they cannot serve: unknown workspace or session, bad sizes, bad base64, a foreign workspace",
            profile: .terminal, exercises: [.sessionOpen, .sessionWrite, .sessionRead], requires: [.provision, .sessionOpen]
        ) { run in
            try await run.expectError(
                .notFound, .sessionOpen, SessionOpenRequest(workspaceId: run.newWorkspaceId("termnone")), "a session in an unknown workspace")
            let id = run.newWorkspaceId("termbad")
            try await run.provision(id)
            try await run.expectError(.invalidArgument, .sessionOpen, SessionOpenRequest(workspaceId: id, cols: 0, rows: 24), "cols 0")
            try await run.expectError(.invalidArgument, .sessionOpen, SessionOpenRequest(workspaceId: id, argv: []), "an empty argv")
            try await run.expectError(
                .notFound, .sessionRead, SessionReadRequest(workspaceId: id, sessionId: "contract-no-such-session", cursor: 0), "an unknown session")
            let session = try await run.openSession(id, ["/bin/sh"])
            try await run.expectError(
                .invalidArgument, .sessionWrite, SessionWriteRequest(workspaceId: id, sessionId: session.id, dataBase64: "%%%"), "bad base64")
            try await run.expectError(
                .notFound, .sessionRead, SessionReadRequest(workspaceId: "other-\(id)", sessionId: session.id, cursor: 0),
                "another workspace's session")
            try await session.close()
            _ = try await run.stop(id)
        },
    ]
}

/// An open session, read by cursor.
final class ContractSession: @unchecked Sendable {
    let run: ContractRun
    let workspaceId: String
    let id: String
    var cursor: Int64 = 0
    /// Everything read so far.
    var output: [UInt8] = []

    init(run: ContractRun, workspaceId: String, id: String) {
        self.run = run
        self.workspaceId = workspaceId
        self.id = id
    }

    func write(_ text: String) async throws {
        let answer: SessionWriteResponse = try await run.ok(
            .sessionWrite, SessionWriteRequest(workspaceId: workspaceId, sessionId: id, dataBase64: Data(text.utf8).base64EncodedString()))
        try run.expect(answer.written == text.utf8.count, "session_write took \(answer.written) of \(text.utf8.count) bytes")
    }

    /// Reads until the output holds `marker` (at most 15 s); answers the output read so far, as text.
    @discardableResult
    func read(until marker: String, _ what: String) async throws -> String {
        let bytes = try await read(untilBytes: Array(marker.utf8), what)
        return String(decoding: bytes, as: UTF8.self)
    }

    @discardableResult
    func read(untilBytes marker: [UInt8], _ what: String) async throws -> [UInt8] {
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            if output.firstRange(of: marker) != nil { return output }
            let piece = try await next(waitMs: 500)
            if piece.exited { break }
        }
        if output.firstRange(of: marker) != nil { return output }
        throw ContractFailure(
            "\(what): no \(String(decoding: marker, as: UTF8.self).debugDescription) in the session's output within 15 s; it read "
                + String(decoding: output.suffix(400), as: UTF8.self).debugDescription)
    }

    /// Reads until the session reports its exit (at most 15 s); answers the exit code.
    func readUntilExit() async throws -> Int? {
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            let piece = try await next(waitMs: 500)
            if piece.exited { return piece.exitCode }
        }
        throw ContractFailure("the session did not report an exit within 15 s")
    }

    func next(waitMs: Int) async throws -> SessionReadResponse {
        let piece: SessionReadResponse = try await run.ok(
            .sessionRead, SessionReadRequest(workspaceId: workspaceId, sessionId: id, cursor: cursor, waitMs: waitMs))
        guard let data = Data(base64Encoded: piece.dataBase64) else { throw ContractFailure("session_read answered data that is not base64") }
        try run.expect(
            piece.cursor == cursor + Int64(data.count) + piece.dropped, "the cursor moved by \(piece.cursor - cursor) for \(data.count) bytes")
        output += data
        cursor = piece.cursor
        return piece
    }

    func close() async throws {
        let _: SessionStatusResponse = try await run.ok(.sessionClose, SessionRef(workspaceId: workspaceId, sessionId: id))
    }
}

extension ContractRun {
    func openSession(_ workspaceId: String, _ argv: [String], cols: Int? = nil, rows: Int? = nil) async throws -> ContractSession {
        let opened: SessionOpenResponse = try await ok(
            .sessionOpen, SessionOpenRequest(workspaceId: workspaceId, argv: argv, cols: cols, rows: rows))
        try expect(!opened.sessionId.isEmpty, "session_open answered an empty session_id")
        return ContractSession(run: self, workspaceId: workspaceId, id: opened.sessionId)
    }
}
