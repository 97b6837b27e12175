import ProviderWire

/// Runs `diagnose` stages in order, timing each and stopping at the first failure (the error's message becomes the
/// stage's `error`). Every provider's diagnose answers the same shape this way.
public struct DiagnoseRecorder {
    public private(set) var stages: [DiagnoseStage] = []
    private var failed = false

    public init() {}

    /// Runs `body` as stage `name` unless an earlier stage failed; its return value is the stage's `detail`.
    public mutating func stage(_ name: String, _ body: () throws -> String?) {
        guard !failed else { return }
        let started = MonotonicClock.now()
        do {
            let detail = try body()
            stages.append(DiagnoseStage(name: name, ok: true, durationMs: Self.elapsedMs(since: started), detail: detail))
        } catch {
            let message = ProviderErrorMapping.message(of: error)
            stages.append(DiagnoseStage(name: name, ok: false, durationMs: Self.elapsedMs(since: started), error: message))
            failed = true
        }
    }

    /// The `diagnose` answer.
    public var response: DiagnoseResponse { DiagnoseResponse(stages: stages) }

    static func elapsedMs(since start: UInt64) -> Int { Int((MonotonicClock.now() - start) / 1_000_000) }
}
