import Foundation
import ProviderHost
import ProviderWire

/// The `exec` profile (ABI 1.1). Every command here is POSIX `sh` and its utilities, which every workspace has.
extension ContractCatalogue {
    static let execCases: [ContractCase] = [
        ContractCase(
            "exec.exit-and-streams", "exec answers the command's exit code, with stdout and stderr kept apart, byte for byte",
            profile: .exec, exercises: [.exec], requires: [.provision, .exec]
        ) { run in
            let id = run.newWorkspaceId("exec")
            try await run.provision(id)
            let answer = try await run.exec(id, ["sh", "-c", "printf 'out\\n'; printf 'err\\n' >&2; printf 'more'; exit 3"])
            try run.expect(answer.exitCode == 3, "exit_code \(answer.exitCode), expected 3")
            try run.expect(answer.stdout == Array("out\nmore".utf8), "stdout \(answer.stdoutText.debugDescription), expected \"out\\nmore\"")
            try run.expect(answer.stderr == Array("err\n".utf8), "stderr \(answer.stderrText.debugDescription), expected \"err\\n\"")
            try run.expect(
                !answer.response.timedOut && !answer.response.stdoutTruncated, "a command that exited in time was reported timed out or truncated")
            let ok = try await run.exec(id, ["true"])
            try run.expect(ok.exitCode == 0 && ok.stdout.isEmpty, "`true` answered exit \(ok.exitCode) with output \(ok.stdoutText.debugDescription)")
            let missing = try await run.exec(id, ["contract-no-such-program-\(UUID().uuidString.prefix(8))"])
            try run.expect(missing.exitCode == 127, "a program that does not exist answered exit \(missing.exitCode), expected 127 as a shell does")
            _ = try await run.stop(id)
        },
        ContractCase(
            "exec.stdin-raw-bytes", "stdin reaches the command and any bytes (NUL, invalid UTF-8) come back unchanged",
            profile: .exec, exercises: [.exec], requires: [.provision, .exec]
        ) { run in
            let id = run.newWorkspaceId("execstdin")
            try await run.provision(id)
            let bytes: [UInt8] = [0, 0xff, 0xfe, 0x80, 0x0a, 0x41, 0xc3, 0x28] + Array(0...255).map(UInt8.init) + Array("end".utf8)
            let echoed = try await run.exec(id, ["cat"], stdin: bytes)
            try run.expect(echoed.exitCode == 0, "cat exited \(echoed.exitCode)")
            try run.expect(echoed.stdout == bytes, "cat gave back \(echoed.stdout.count) bytes that differ from the \(bytes.count) sent")
            let produced = try await run.exec(id, ["sh", "-c", "printf '\\377\\376\\000x'"])
            try run.expect(produced.stdout == [0xff, 0xfe, 0x00, 0x78], "printf of raw bytes came back as \(produced.stdout)")
            let empty = try await run.exec(id, ["cat"])
            try run.expect(empty.exitCode == 0 && empty.stdout.isEmpty, "cat without stdin did not see an empty input (exit \(empty.exitCode))")
            _ = try await run.stop(id)
        },
        ContractCase(
            "exec.env-and-dir", "env is added to the command's environment; working_dir is relative to the files root and cannot leave it",
            profile: .exec, exercises: [.exec], requires: [.provision, .exec]
        ) { run in
            let id = run.newWorkspaceId("execenv")
            try await run.provision(id)
            let made = try await run.exec(id, ["mkdir", "-p", "contract-dir/sub"])
            try run.expect(made.exitCode == 0, "mkdir in the files root exited \(made.exitCode): \(made.stderrText)")
            let answer = try await run.exec(
                id, ["sh", "-c", "printf '%s|%s' \"$CONTRACT_VALUE\" \"$(pwd)\""], env: ["CONTRACT_VALUE": "a b'c"], workingDir: "contract-dir/sub")
            let parts = answer.stdoutText.split(separator: "|", maxSplits: 1).map(String.init)
            try run.expect(parts.first == "a b'c", "the command saw CONTRACT_VALUE as \(parts.first.debugDescription), expected \"a b'c\"")
            try run.expect(parts.count == 2 && parts[1].hasSuffix("/contract-dir/sub"), "pwd was \(parts.last ?? ""), expected …/contract-dir/sub")
            let root = try await run.exec(id, ["sh", "-c", "ls"])
            try run.expect(
                root.stdoutText.split(separator: "\n").contains("contract-dir"),
                "the default directory is not the files root: ls shows \(root.stdoutText)")
            let request = { (argv: [String], dir: String?, env: [String: String]?) in
                ExecRequest(workspaceId: id, argv: argv, env: env, workingDir: dir)
            }
            try await run.expectError(.invalidArgument, .exec, request(["pwd"], "../..", nil), "working_dir ../..")
            try await run.expectError(.invalidArgument, .exec, request(["pwd"], "/etc", nil), "an absolute working_dir")
            try await run.expectError(.invalidArgument, .exec, request(["pwd"], "contract-no-such-dir", nil), "a working_dir that does not exist")
            try await run.expectError(.invalidArgument, .exec, request([], nil, nil), "an empty argv")
            try await run.expectError(.invalidArgument, .exec, request(["env"], nil, ["BAD NAME": "x"]), "an env name with a space")
            _ = try await run.stop(id)
        },
        ContractCase(
            "exec.timeout-kills", "a command still running at timeout_ms is killed (timed_out, exit 137) promptly, and does nothing after",
            profile: .exec, exercises: [.exec], requires: [.provision, .exec]
        ) { run in
            let id = run.newWorkspaceId("exectimeout")
            try await run.provision(id)
            let started = ContinuousClock.now
            let answer = try await run.exec(id, ["sh", "-c", "echo begun; sleep 4; echo survived > contract-timeout-marker"], timeoutMs: 800)
            let took = ContinuousClock.now - started
            try run.expect(answer.response.timedOut, "a command past its timeout_ms was not reported timed_out (exit \(answer.exitCode))")
            try run.expect(answer.exitCode == 137, "a command killed at its timeout answered exit \(answer.exitCode), expected 137 (128 + SIGKILL)")
            try run.expect(answer.stdoutText == "begun\n", "the output before the kill was lost: \(answer.stdoutText.debugDescription)")
            try run.expect(took < .seconds(4), "exec answered \(took) after a 0.8 s timeout (the command was not killed)")
            try await Task.sleep(for: .seconds(4.5) - took)
            let marker = try await run.exec(id, ["cat", "contract-timeout-marker"])
            try run.expect(marker.exitCode != 0, "the killed command went on and wrote its marker")
            _ = try await run.stop(id)
        },
        ContractCase(
            "exec.output-limit", "output past max_output_bytes is read and dropped: kept up to the limit, *_truncated set, the command not blocked",
            profile: .exec, exercises: [.exec], requires: [.provision, .exec]
        ) { run in
            let id = run.newWorkspaceId("execlimit")
            try await run.provision(id)
            let answer = try await run.exec(id, ["sh", "-c", "head -c 300000 /dev/zero; echo done >&2"], maxOutputBytes: 1000)
            try run.expect(answer.exitCode == 0, "a command writing past the limit exited \(answer.exitCode) (was it blocked or killed?)")
            try run.expect(
                answer.stdout.count == 1000 && answer.stdout.allSatisfy { $0 == 0 }, "kept \(answer.stdout.count) bytes, expected 1000 zeros")
            try run.expect(answer.response.stdoutTruncated, "stdout_truncated is false after 300000 bytes with a 1000-byte limit")
            try run.expect(
                answer.stderrText == "done\n" && !answer.response.stderrTruncated, "stderr \(answer.stderrText.debugDescription) should be whole")
            try await run.expectError(
                .invalidArgument, .exec, ExecRequest(workspaceId: id, argv: ["true"], maxOutputBytes: ExecRequest.maxOutputBytes + 1),
                "max_output_bytes above the bound")
            try await run.expectError(.invalidArgument, .exec, ExecRequest(workspaceId: id, argv: ["true"], timeoutMs: 0), "timeout_ms 0")
            _ = try await run.stop(id)
        },
        ContractCase(
            "exec.not-running",
            "exec answers NOT_FOUND for an unknown or stopped workspace (CONFLICT while paused), and stop kills a running command",
            profile: .exec, exercises: [.exec, .stop], requires: [.provision, .stop, .exec]
        ) { run in
            try await run.expectError(
                .notFound, .exec, ExecRequest(workspaceId: run.newWorkspaceId("execnone"), argv: ["true"]), "exec in an unknown workspace")
            let id = run.newWorkspaceId("execstop")
            try await run.provision(id)
            if run.claims(.pause) {
                let _: InspectResponse = try await run.ok(.pause, WorkspaceRef(workspaceId: id))
                try await run.expectError(.conflict, .exec, ExecRequest(workspaceId: id, argv: ["true"]), "exec in a paused workspace")
                let _: InspectResponse = try await run.ok(.resume, WorkspaceRef(workspaceId: id))
            }
            let started = ContinuousClock.now
            let long = Task { try await run.exec(id, ["sleep", "30"], timeoutMs: 60_000) }
            try await Task.sleep(for: .seconds(1))
            _ = try await run.stop(id)
            // Whatever exec answers (its exit, or an error), it answers once the workspace is gone — not in 30 s.
            _ = try? await long.value
            let took = ContinuousClock.now - started
            try run.expect(took < .seconds(20), "exec of `sleep 30` went on for \(took) after its workspace stopped")
            try await run.expectError(.notFound, .exec, ExecRequest(workspaceId: id, argv: ["true"]), "exec in a stopped workspace")
        },
    ]
}

/// An `exec` answer with its streams decoded.
struct ExecOutcome {
    var response: ExecResponse
    var stdout: [UInt8]
    var stderr: [UInt8]
    var exitCode: Int { response.exitCode }
    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

extension ContractRun {
    /// Runs `exec` and decodes its base64 streams (a stream that is not valid base64 fails the case).
    func exec(
        _ workspaceId: String, _ argv: [String], stdin: [UInt8]? = nil, env: [String: String]? = nil, workingDir: String? = nil,
        timeoutMs: Int? = nil, maxOutputBytes: Int? = nil
    ) async throws -> ExecOutcome {
        let request = ExecRequest(
            workspaceId: workspaceId, argv: argv, env: env, workingDir: workingDir, stdinBase64: stdin.map { Data($0).base64EncodedString() },
            timeoutMs: timeoutMs, maxOutputBytes: maxOutputBytes)
        let response: ExecResponse = try await ok(.exec, request)
        guard let out = Data(base64Encoded: response.stdoutBase64), let err = Data(base64Encoded: response.stderrBase64) else {
            throw ContractFailure("exec answered stdout_base64/stderr_base64 that is not valid base64")
        }
        return ExecOutcome(response: response, stdout: Array(out), stderr: Array(err))
    }
}
