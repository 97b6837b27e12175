import Foundation
import ProviderHTTP
import ProviderKit
import ProviderWire

extension DockerProvider: LogServingProvider {
    /// The container log, its multiplexed stream decoded. The cursor is the timestamp of the last line returned.
    func logs(_ request: LogsRequest, context: CallContext) throws -> LogsResponse {
        let name = try containerName(request.workspaceId)
        var query = "stdout=true&stderr=true&timestamps=true"
        // The cursor is the exact engine timestamp of the last line answered ("SECONDS.NANOSECONDS"). The engine is
        // asked from that second on (some engines filter `since` by the second only) and the lines up to the cursor
        // are dropped here, compared exactly: nothing is answered twice, nothing is skipped.
        let after = try request.cursor.map { cursor -> LogTimestamp in
            guard let stamp = LogTimestamp(cursor: cursor) else {
                throw ProviderError.invalidArgument("cursor \"\(cursor)\" is not a cursor this provider issued")
            }
            return stamp
        }
        if let after {
            query += "&since=\(after.seconds)"
        } else {
            query += "&tail=\(max(1, min(request.tailLines ?? LogTail.defaultLines, LogTail.maximumLines)))"
        }
        let reply = try engine.request("GET", "/containers/\(name)/logs?\(query)", context: context)
        if reply.status == 404 { throw ProviderError.notFound("workspace \(request.workspaceId) has no container") }
        let text = Self.demultiplex(try engine.check(reply, "read logs").body)
        var content = ""
        var last = after ?? LogTimestamp(seconds: 0, nanoseconds: 0)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
            // "2026-11-21T13:42:01.123456789Z message"
            guard let space = line.firstIndex(of: " "), let stamp = LogTimestamp(rfc3339: String(line[..<space])) else { continue }
            if let after, stamp <= after { continue }
            last = max(last, stamp)
            content += line[line.index(after: space)...] + "\n"
        }
        return LogsResponse(content: content, cursor: last.cursor)
    }

    /// Decodes the engine's multiplexed stream (8-byte headers: stream, 0, 0, 0, big-endian length).
    static func demultiplex(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        var index = 0
        while index + 8 <= bytes.count, bytes[index] <= 2, bytes[index + 1] == 0 {
            let length = Int(bytes[index + 4]) << 24 | Int(bytes[index + 5]) << 16 | Int(bytes[index + 6]) << 8 | Int(bytes[index + 7])
            let start = index + 8
            guard start + length <= bytes.count else { break }
            output += bytes[start..<start + length]
            index = start + length
        }
        if index == 0 { return String(decoding: bytes, as: UTF8.self) }  // a TTY container: raw stream
        return String(decoding: output, as: UTF8.self)
    }
}

/// An engine log timestamp, exact to the nanosecond (a Double cannot hold one), ordered.
struct LogTimestamp: Comparable, Sendable {
    var seconds: Int64
    var nanoseconds: Int64

    /// `2026-11-21T13:42:01.123456789Z` (RFC 3339 with up to nine fraction digits, as the engine writes them).
    init?(rfc3339 text: String) {
        let parts = text.split(separator: ".", maxSplits: 1)
        let whole = parts.count == 2 ? String(parts[0]) + "Z" : text
        guard let base = ISO8601DateFormatter().date(from: whole) else { return nil }
        seconds = Int64(base.timeIntervalSince1970.rounded(.down))
        let digits = parts.count == 2 ? parts[1].prefix { $0.isNumber } : ""
        guard digits.count <= 9 else { return nil }
        nanoseconds = Int64(digits.padding(toLength: 9, withPad: "0", startingAt: 0)) ?? 0
    }

    init(seconds: Int64, nanoseconds: Int64) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// What ``cursor`` wrote: `SECONDS.NANOSECONDS` (nine digits).
    init?(cursor: String) {
        let parts = cursor.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count == 9, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let seconds = Int64(parts[0]), let nanoseconds = Int64(parts[1])
        else { return nil }
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    var cursor: String {
        let fraction = String(nanoseconds)
        return "\(seconds)." + String(repeating: "0", count: max(0, 9 - fraction.count)) + fraction
    }

    static func < (a: Self, b: Self) -> Bool { (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds) }
}

extension DockerProvider: DiagnosingProvider {
    func diagnose(_ request: WorkspaceRef, context: CallContext) throws -> DiagnoseResponse {
        var recorder = DiagnoseRecorder()
        var container: JSONValue?
        recorder.stage("daemon-ping") {
            try engine.check(try engine.request("GET", "/_ping", context: context), "ping")
            return config.socket
        }
        recorder.stage("container-found") {
            container = try inspectContainer(request.workspaceId, context: context)
            guard let container else { throw ProviderError.notFound("no container \(try containerName(request.workspaceId))") }
            return container["Id"]?.stringValue
        }
        recorder.stage("container-running") {
            let state = container.map(Self.state(of:)) ?? .absent
            guard state == .running else { throw ProviderError.conflict("container is \(state.rawValue)") }
            return state.rawValue
        }
        recorder.stage("exec-probe") {
            let result = try exec(try containerName(request.workspaceId), ["echo", "MOLECULE_PROBE_OK"], context: context)
            guard result.exitCode == 0, result.output.contains("MOLECULE_PROBE_OK") else {
                throw ProviderError.internal("probe exited \(result.exitCode): \(result.output)")
            }
            return "probe answered"
        }
        return recorder.response
    }
}

extension DockerProvider {
    /// How long an exec may keep running after its output stream ended.
    static let execSettleMs = 10_000

    /// Runs a command in a running container and waits for it (bounded by the call's deadline).
    func exec(_ container: String, _ command: [String], context: CallContext) throws -> (exitCode: Int, output: String) {
        let create: JSONValue = ["AttachStdout": true, "AttachStderr": true, "Cmd": .array(command.map(JSONValue.string))]
        let created = try engine.check(
            try engine.request("POST", "/containers/\(container)/exec", body: WireCoding.encode(create), context: context), "exec create")
        guard let id = created.json?["Id"]?.stringValue else { throw ProviderError.internal("exec create answered no id") }
        let started = try engine.check(
            try engine.request("POST", "/exec/\(id)/start", body: WireCoding.encode(["Detach": false, "Tty": false] as JSONValue), context: context),
            "exec start"
        )
        let output = Self.demultiplex(started.body)
        return (try execExitCode(id, command, context: context), output)
    }

    /// The exit code of engine exec `id`, which follows the end of its output stream within moments.
    func execExitCode(_ id: String, _ command: [String], context: CallContext) throws -> Int {
        let exitCode = try Poll.until(
            context, limit: MonotonicClock.deadline(afterMilliseconds: Self.execSettleMs), initialDelay: .milliseconds(2),
            maxDelay: .milliseconds(100)
        ) { () throws(ProviderError) -> Int? in
            let inspected = try engine.check(try engine.request("GET", "/exec/\(id)/json", context: context), "exec inspect").json
            guard inspected?["Running"] == .bool(false) else { return nil }
            return inspected?["ExitCode"]?.numberValue.map { Int($0) } ?? -1
        }
        guard let exitCode else {
            try context.checkDeadline("waiting for exec \(command)")
            throw ProviderError.deadlineExceeded("exec \(command) still ran \(Self.execSettleMs) ms after its output ended")
        }
        return exitCode
    }

    /// Runs `command` in a throwaway container of `image` with the workspace's volume at /configs, then removes it.
    func runHelper(image: String, volume: String, command: [String], context: CallContext) throws {
        let body: JSONValue = [
            "Image": .string(image), "Cmd": .array(command.map(JSONValue.string)), "Entrypoint": .array([]),
            "Labels": ["molecule.managed": "true", "molecule.owner": .string(config.owner), "molecule.helper": "true"],
            "HostConfig": ["Binds": [.string("\(volume):/configs")], "NetworkMode": "none"],
        ]
        let created = try engine.check(
            try engine.request("POST", "/containers/create", body: WireCoding.encode(body), context: context), "create helper")
        guard let id = created.json?["Id"]?.stringValue else { throw ProviderError.internal("helper create answered no id") }
        defer { _ = try? engine.request("DELETE", "/containers/\(id)?force=true", context: context) }
        try engine.check(try engine.request("POST", "/containers/\(id)/start", context: context), "start helper")
        let waited = try engine.check(try engine.request("POST", "/containers/\(id)/wait", context: context), "wait helper").json
        let code = waited?["StatusCode"]?.numberValue.map { Int($0) } ?? -1
        guard code == 0 else { throw ProviderError.internal("helper \(command) exited \(code)") }
    }
}

extension DockerProvider: SnapshottingProvider {
    /// Commits the container (its filesystem) and carries the configs volume's content inside the image at
    /// `/.molecule-snapshot/configs`, so one labelled image restores both.
    func snapshot(_ request: WorkspaceRef, context: CallContext) throws -> SnapshotResponse {
        let container = try requireContainer(request.workspaceId, context: context)
        let configs = try getArchive(container, try RelativePath("", allowRoot: true), context: context)
        let snapshotId = "snap-\(try Self.shortId(request.workspaceId))-\(Int(Date().timeIntervalSince1970 * 1000))"
        var labels = labels(request.workspaceId)
        labels["molecule.snapshot_id"] = snapshotId
        let labelJSON: JSONValue = ["Labels": .object(labels.mapValues(JSONValue.string))]
        let base = try engine.check(
            try engine.request(
                "POST", "/commit?container=\(container)&repo=molecule-snapshot-base&tag=\(snapshotId)&pause=true", body: WireCoding.encode(labelJSON),
                context: context),
            "commit \(container)"
        )
        let baseImage = base.json?["Id"]?.stringValue ?? "molecule-snapshot-base:\(snapshotId)"
        defer { _ = try? engine.request("DELETE", "/images/molecule-snapshot-base:\(snapshotId)?noprune=true", context: context) }
        // A stopped carrier container from that image receives the configs, then is committed as the snapshot.
        // Never started: the Cmd only satisfies create for images without one.
        let carrierBody: JSONValue = [
            "Image": .string(baseImage), "Labels": .object(labels.mapValues(JSONValue.string)), "Cmd": ["/.molecule-never-run"],
        ]
        let carrier = try engine.check(
            try engine.request("POST", "/containers/create", body: WireCoding.encode(carrierBody), context: context), "create snapshot carrier")
        guard let carrierId = carrier.json?["Id"]?.stringValue else { throw ProviderError.internal("carrier create answered no id") }
        defer { _ = try? engine.request("DELETE", "/containers/\(carrierId)?force=true", context: context) }
        var entries: [TarArchive.Entry] = [.init(path: try RelativePath(".molecule-snapshot"), kind: .directory, mode: 0o755)]
        // The workspace's token stays with the workspace: a snapshot (an image anyone with the engine can read) never has it.
        for var entry in configs.entries where !AgentEnvironment.isCredential(entry.path) {
            entry.path = try RelativePath(".molecule-snapshot/" + entry.path.string)
            entries.append(entry)
        }
        try putArchive(carrierId, path: "/", tar: TarArchive(entries: entries).serialized(), context: context)
        let original = try inspectContainer(request.workspaceId, context: context)
        var commitConfig: [String: JSONValue] = ["Labels": .object(labels.mapValues(JSONValue.string))]
        if let cmd = original?["Config"]?["Cmd"], cmd != .null { commitConfig["Cmd"] = cmd }
        if let entrypoint = original?["Config"]?["Entrypoint"], entrypoint != .null { commitConfig["Entrypoint"] = entrypoint }
        try engine.check(
            try engine.request(
                "POST", "/commit?container=\(carrierId)&repo=molecule-snapshot&tag=\(snapshotId)",
                body: WireCoding.encode(JSONValue.object(commitConfig)), context: context),
            "commit snapshot"
        )
        return SnapshotResponse(snapshotId: snapshotId)
    }

    func restore(_ request: ProvisionRequest, context: CallContext) throws -> ProvisionResponse {
        guard let snapshotId = request.snapshotId else { throw ProviderError.invalidArgument("restore needs a \"snapshot_id\"") }
        try Identifier.validateSnapshotId(snapshotId)
        let image = "molecule-snapshot:\(snapshotId)"
        let found = try engine.request("GET", "/images/\(image.queryEscaped)/json", context: context)
        if found.status == 404 { throw ProviderError.notFound("snapshot \(snapshotId) not found") }
        try engine.check(found, "inspect snapshot \(snapshotId)")
        if let existing = try inspectContainer(request.workspaceId, context: context), Self.state(of: existing) == .running {
            throw ProviderError.conflict("workspace \(request.workspaceId) is running; stop it before restoring into it")
        }
        // The configs carried in the image become the seed of the new workspace's volume.
        let probeBody: JSONValue = ["Image": .string(image), "Cmd": ["/.molecule-never-run"]]
        let probe = try engine.check(
            try engine.request("POST", "/containers/create", body: WireCoding.encode(probeBody), context: context), "read snapshot")
        guard let probeId = probe.json?["Id"]?.stringValue else { throw ProviderError.internal("snapshot reader answered no id") }
        defer { _ = try? engine.request("DELETE", "/containers/\(probeId)?force=true", context: context) }
        let carried = try TarArchive(
            parsing: try engine.check(
                try engine.request("GET", "/containers/\(probeId)/archive?path=/.molecule-snapshot/configs", context: context),
                "read snapshot configs"
            ).body,
            limits: .engine
        )
        var seed = request
        seed.image = image
        return try start(seed, image: image, seed: TarArchive(entries: carried.entries).serialized(), context: context)
    }
}
