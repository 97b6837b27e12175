import ProviderWire
import Synchronization

/// Hands each workspace one value from a range — its uid, its port — recorded in its `meta.json`, so it survives a
/// restart and stays the workspace's until its storage is removed: the recorded value when there is one, else the
/// lowest that no other workspace records and `isUsable` accepts. Serialised per allocator (one provider instance
/// owns a state directory).
final class MetaAllocator<Value: Hashable & Sendable>: Sendable {
    let field: any WritableKeyPath<WorkspaceMeta, Value?> & Sendable
    let range: [Value]
    /// What the value is, for errors ("workload uid", "port").
    let what: String
    private let allocation = Mutex(())

    init(_ field: any WritableKeyPath<WorkspaceMeta, Value?> & Sendable, range: [Value], what: String) {
        self.field = field
        self.range = range
        self.what = what
    }

    /// The workspace's value, allocated and recorded if it has none. QUOTA_EXCEEDED when the range is used up.
    func value(
        for workspace: WorkspaceDirectory, in layout: StateLayout, owner: String, isUsable: (Value) -> Bool = { _ in true }
    ) throws(ProviderError) -> Value {
        if let recorded = workspace.readMeta()?[keyPath: field] { return recorded }
        return try allocation.withLock { _ throws(ProviderError) -> Value in
            let taken = Set(layout.allWorkspaces().compactMap { $0.id == workspace.id ? nil : $0.readMeta()?[keyPath: field] })
            guard let free = range.first(where: { !taken.contains($0) && isUsable($0) }) else {
                throw .quotaExceeded("every \(what) from \(range.first.map { "\($0)" } ?? "?") to \(range.last.map { "\($0)" } ?? "?") is taken")
            }
            var meta = workspace.readMeta() ?? WorkspaceMeta(workspaceId: workspace.id, owner: owner)
            meta[keyPath: field] = free
            do { try workspace.writeMeta(meta) } catch { throw .unavailable("cannot record the workspace's \(what): \(error)") }
            return free
        }
    }
}
