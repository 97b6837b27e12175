import ProviderWire

/// A named group of cases a provider passes as a whole — what a conformance claim names ("passes `core` and
/// `pause`"). A provider claims a profile by claiming every one of its verbs; claiming some but not all is a failure,
/// never a partial pass. A profile passes only when every case of it (and of the profiles it includes) passed: a case
/// is NOT-APPLICABLE only when the manifest does not declare the feature it needs.
public struct ContractProfile: Sendable, Hashable, Codable {
    /// Stable id (`core`); `--profile` selects it.
    public let id: String
    public let summary: String
    /// The verbs a provider claims to claim the profile.
    public let verbs: [Verb]
    /// Profiles whose cases are part of this one (`core` includes `lifecycle`).
    public let includes: [String]

    public init(_ id: String, _ summary: String, verbs: [Verb], includes: [String] = []) {
        self.id = id
        self.summary = summary
        self.verbs = verbs
        self.includes = includes
    }

    public static let lifecycle = ContractProfile(
        "lifecycle", "identity, provision/inspect/stop, idempotency, ids, deadlines, ownership, an unreachable backend",
        verbs: [.describe, .provision, .inspect, .stop, .listOwned])
    public static let core = ContractProfile(
        "core", "lifecycle plus files, logs and storage removal", verbs: [.listFiles, .readFile, .writeFile, .deleteFile, .logs, .removeStorage],
        includes: ["lifecycle"])
    public static let pause = ContractProfile("pause", "pause and resume, and files that survive 100 cycles", verbs: [.pause, .resume])
    public static let snapshot = ContractProfile("snapshot", "snapshot and restore, and files that survive 20 cycles", verbs: [.snapshot, .restore])
    public static let plugins = ContractProfile(
        "plugins", "install, list and uninstall plugins safely", verbs: [.installPlugin, .listPlugins, .uninstallPlugin])
    public static let diagnose = ContractProfile("diagnose", "a staged probe of the path to a workspace", verbs: [.diagnose])
    public static let exec = ContractProfile(
        "exec", "run a command to completion: exit codes, separate streams, stdin, raw bytes, limits, timeouts (ABI 1.1)", verbs: [.exec])
    public static let terminal = ContractProfile(
        "terminal", "interactive sessions on a pty: input, output by cursor, resize, exit, concurrency, end with stop (ABI 1.1)",
        verbs: [.sessionOpen, .sessionWrite, .sessionRead, .sessionResize, .sessionClose])

    /// Every profile, in report order.
    public static let all: [ContractProfile] = [.lifecycle, .core, .pause, .snapshot, .plugins, .diagnose, .exec, .terminal]

    public static func named(_ id: String) -> ContractProfile? { all.first { $0.id == id } }

    /// This profile's id and the ids of every profile it includes, transitively.
    public var closure: [String] {
        [id] + includes.flatMap { ContractProfile.named($0)?.closure ?? [] }
    }
}
