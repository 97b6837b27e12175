/// The `logs` verb's tail, one rule for every provider: the last `tail_lines` whole lines of a console log (the
/// line break that ends the log does not start another line), each ending in a line break.
public enum LogTail {
    /// The default and the bound of `tail_lines`.
    public static let defaultLines = 200
    public static let maximumLines = 10_000

    /// The last `requested` lines of `text` (`nil`: ``defaultLines``; clamped to 1…``maximumLines``).
    public static func lastLines(of text: String, requested: Int?) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        let count = max(1, min(requested ?? defaultLines, maximumLines))
        return lines.isEmpty ? "" : lines.suffix(count).joined(separator: "\n") + "\n"
    }
}
