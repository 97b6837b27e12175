/// The one rule for the identifiers a provider turns into backend names and path components: workspace ids, snapshot
/// ids and plugin names. Every provider validates with it (the contract suite's `validation.workspace-id` checks the
/// outcome), so an id one backend takes is never refused by another.
///
/// Valid: 1 to 128 ASCII letters, digits, `-`, `_` and `.`, not starting with `.` and without `..` anywhere (an id can
/// become a path component, a tag value, a client token or part of a container name).
public enum Identifier {
    /// The longest identifier, in bytes.
    public static let maximumLength = 128

    /// Whether `id` follows the rule.
    public static func isValid(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= maximumLength && !id.hasPrefix(".") && !id.contains("..")
            && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
    }

    /// Throws INVALID_ARGUMENT naming `what` (`workspace_id`, `snapshot_id`, `plugin name`) unless `id` is valid.
    public static func validate(_ id: String, what: String) throws(ProviderError) {
        guard isValid(id) else {
            throw .invalidArgument(
                "\(what) \"\(id)\" is invalid: use 1-\(maximumLength) letters, digits, '-', '_' or '.', not starting with '.' and without '..'")
        }
    }

    /// ``validate(_:what:)`` for a request's `workspace_id`.
    public static func validateWorkspaceId(_ id: String) throws(ProviderError) { try validate(id, what: "workspace_id") }

    /// ``validate(_:what:)`` for a request's `snapshot_id`.
    public static func validateSnapshotId(_ id: String) throws(ProviderError) { try validate(id, what: "snapshot_id") }
}
