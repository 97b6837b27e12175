/// A provider verb, numbered as the slots of `mp_vtable.verbs` in `molecule_provider.h`.
///
/// The raw value is the slot index (`mp_verb`); ``wireName`` is the name used in manifests, results and docs.
public enum Verb: UInt32, CaseIterable, Sendable, Codable, CustomStringConvertible {
    case describe = 0
    case provision = 1
    case stop = 2
    case inspect = 3
    case pause = 4
    case resume = 5
    case snapshot = 6
    case restore = 7
    case listFiles = 8
    case readFile = 9
    case writeFile = 10
    case deleteFile = 11
    case installPlugin = 12
    case uninstallPlugin = 13
    case listPlugins = 14
    case logs = 15
    case listOwned = 16
    case diagnose = 17
    case removeStorage = 18
    // ABI 1.1
    case exec = 19
    case sessionOpen = 20
    case sessionWrite = 21
    case sessionRead = 22
    case sessionResize = 23
    case sessionClose = 24

    /// The snake_case name used in manifests, contract results and the parity matrix.
    public var wireName: String {
        switch self {
        case .describe: "describe"
        case .provision: "provision"
        case .stop: "stop"
        case .inspect: "inspect"
        case .pause: "pause"
        case .resume: "resume"
        case .snapshot: "snapshot"
        case .restore: "restore"
        case .listFiles: "list_files"
        case .readFile: "read_file"
        case .writeFile: "write_file"
        case .deleteFile: "delete_file"
        case .installPlugin: "install_plugin"
        case .uninstallPlugin: "uninstall_plugin"
        case .listPlugins: "list_plugins"
        case .logs: "logs"
        case .listOwned: "list_owned"
        case .diagnose: "diagnose"
        case .removeStorage: "remove_storage"
        case .exec: "exec"
        case .sessionOpen: "session_open"
        case .sessionWrite: "session_write"
        case .sessionRead: "session_read"
        case .sessionResize: "session_resize"
        case .sessionClose: "session_close"
        }
    }

    /// The ABI 1.x minor version that added this verb's slot: a provider that negotiated an older minor has no slot
    /// for it, and the Host never calls it.
    public var sinceMinor: UInt32 { rawValue >= 19 ? 1 : 0 }

    /// The verbs a table of ABI 1.`minor` has slots for.
    public static func verbs(upToMinor minor: UInt32) -> [Verb] { allCases.filter { $0.sinceMinor <= minor } }

    /// A verb that may wait for output (``sessionRead``): the Host runs it on threads of its own, so a terminal left
    /// open never holds a thread that lifecycle verbs need.
    public var waitsForOutput: Bool { self == .sessionRead }

    /// The verb with the given wire name, if any.
    public init?(wireName: String) {
        guard let verb = Verb.allCases.first(where: { $0.wireName == wireName }) else { return nil }
        self = verb
    }

    /// The contract version of this verb's semantics in ABI v1. Bumped per verb when its contract changes.
    public var contractVersion: Int { 1 }

    public var description: String { wireName }
}
