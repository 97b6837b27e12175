/// One defect planted in an otherwise correct provider (the Process provider, loaded through its real `.so`).
///
/// Each mutation breaks exactly one promise of `docs/provider-abi.md`. The suite's own tests
/// (`ContractMutantTests`) run the suite against every mutation and fail if any survives — a case that cannot fail on
/// a wrong provider is not a case. `killedBy` names the cases expected to catch it; the test runs those.
public enum Mutation: String, CaseIterable, Sendable {
    /// No defect: the wrapper forwards every call unchanged (it must pass the whole suite).
    case none
    /// Under a short deadline, provision blocks 3 s more without ever reading `is_cancelled`.
    case ignoresDeadline = "ignores-deadline"
    /// Under a short deadline, provision waits until cancelled, then answers DEADLINE_EXCEEDED but leaves the instance running.
    case leaksOnCancel = "leaks-on-cancel"
    /// remove_storage of a running workspace stops it and removes its storage instead of answering CONFLICT.
    case removesRunningStorage = "removes-running-storage"
    /// logs ignores the cursor and answers the whole log again.
    case ignoresCursor = "ignores-cursor"
    /// logs ignores tail_lines.
    case ignoresTailLines = "ignores-tail-lines"
    /// read_file follows a symbolic link (inside the root or out of it) instead of refusing it.
    case followsLinks = "follows-links"
    /// stop answers stopped=true and leaves the instance running.
    case stopLeavesInstance = "stop-leaves-instance"
    /// list_owned leaves out the instances, so a restarted Host could never reap them.
    case hidesInstances = "hides-instances"
    /// restore drops one file of the restored tree.
    case dropsFileOnRestore = "drops-file-on-restore"
    /// list_owned answers the current time as every resource's created_at_ms.
    case changesCreatedAt = "changes-created-at"
    /// Every error comes without a message.
    case errorWithoutMessage = "error-without-message"
    /// snapshot of an unknown workspace succeeds with a made-up snapshot id.
    case snapshotsUnknown = "snapshots-unknown"
    /// write_file ignores the requested mode.
    case ignoresMode = "ignores-mode"
    /// list_files ignores depth and lists the whole tree.
    case ignoresDepth = "ignores-depth"
    /// describe answers another version than the manifest's.
    case describesWrongVersion = "describes-wrong-version"
    /// provisioning a running workspace replaces its instance instead of answering the same one.
    case reprovisions
    /// inspect of an unknown workspace is NOT_FOUND instead of `absent`.
    case inspectUnknownNotFound = "inspect-unknown-not-found"
    /// stop of an unknown workspace answers stopped=true.
    case stopsUnknown = "stops-unknown"
    /// describe answers OK with a backend that is down.
    case hidesOutage = "hides-outage"
    /// pause answers `paused` without pausing anything.
    case pauseDoesNothing = "pause-does-nothing"
    /// restore onto a running workspace replaces it instead of answering CONFLICT.
    case restoresOntoLive = "restores-onto-live"
    /// diagnose answers a stage's duration as a string (a shape the schema forbids).
    case diagnoseBadShape = "diagnose-bad-shape"

    /// The case ids expected to catch the mutation (empty for ``none``).
    public var killedBy: [String] {
        switch self {
        case .none: []
        case .ignoresDeadline: ["deadline.overrun"]
        case .leaksOnCancel: ["deadline.overrun"]
        case .removesRunningStorage: ["storage.remove-running"]
        case .ignoresCursor: ["logs.cursor"]
        case .ignoresTailLines: ["logs.tail-lines"]
        case .followsLinks: ["files.links"]
        case .stopLeavesInstance: ["lifecycle.basic"]
        case .hidesInstances: ["list-owned.tracks"]
        case .dropsFileOnRestore: ["snapshot.restore"]
        case .changesCreatedAt: ["list-owned.created-at-stable"]
        case .errorWithoutMessage: ["files.round-trip"]
        case .snapshotsUnknown: ["snapshot.unknown"]
        case .ignoresMode: ["files.mode"]
        case .ignoresDepth: ["files.list-depth"]
        case .describesWrongVersion: ["describe.identity"]
        case .reprovisions: ["idempotency.provision-twice"]
        case .inspectUnknownNotFound: ["idempotency.inspect-unknown"]
        case .stopsUnknown: ["idempotency.stop-unknown"]
        case .hidesOutage: ["unreachable.unavailable"]
        case .pauseDoesNothing: ["pause.resume"]
        case .restoresOntoLive: ["snapshot.restore-onto-live"]
        case .diagnoseBadShape: ["diagnose.stages"]
        }
    }
}
