import Foundation
import ProviderWire

/// A JSON body the Host accepts from the network: decoded, then checked against its bounds.
///
/// Every body goes through ``decode(_:)``: the bytes must be UTF-8 JSON without a NUL anywhere (PostgreSQL's text
/// and jsonb refuse it; a NUL once wedged the heartbeat batch), numbers must be finite and nesting shallow; then the
/// type's own ``validate()`` checks ranges and lengths. A refusal is a ``RequestError`` naming the field.
public protocol ValidatedBody: Decodable, Sendable {
    /// Checks ranges, lengths and enumerations after decoding.
    func validate() throws(RequestError)
}

extension ValidatedBody {
    /// Decodes and validates `bytes`.
    public static func decode(_ bytes: some Collection<UInt8>) throws(RequestError) -> Self {
        let data = Data(bytes)
        try RequestText.check(data)
        let body: Self
        do { body = try WireCoding.decode(Self.self, from: data) } catch { throw RequestText.describeRefusal(data, error) }
        try body.validate()
        return body
    }
}

/// Checks on the raw text and on values that are stored as they came (agent cards, config).
public enum RequestText {
    /// Deepest nesting of arrays and objects a body may have.
    public static let maximumDepth = 32

    /// Not empty, no NUL byte, no `\u0000` escape. UTF-8 is the decoder's to check (it refuses any invalid
    /// sequence); ``describeRefusal(_:)`` says so when it was the reason.
    public static func check(_ data: Data) throws(RequestError) {
        guard !data.isEmpty else { throw .invalidJSON("the body is empty; send a JSON object") }
        let scanned = data.withUnsafeBytes { bytes in Result { () throws(RequestError) in try scanForNUL(bytes) } }
        try scanned.get()
    }

    /// No NUL byte, and no `\u0000` escape in a string (an escaped backslash before `u0000` is text, not NUL).
    /// memchr does the scanning (to each NUL, then to each backslash): this runs on every body, uploads included.
    static func scanForNUL(_ bytes: UnsafeRawBufferPointer) throws(RequestError) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        if memchr(base, 0, bytes.count) != nil { throw .invalidJSON("contains a NUL byte") }
        var offset = 0
        while offset < bytes.count, let hit = memchr(base + offset, Int32(UInt8(ascii: "\\")), bytes.count - offset) {
            let position = base.distance(to: UnsafeRawPointer(hit))
            // `\\` is an escaped backslash: both are skipped, so the next backslash found starts its own escape.
            let escaped = position + 1 < bytes.count ? bytes[position + 1] : 0
            if escaped == UInt8(ascii: "u"), position + 5 < bytes.count,
                bytes[(position + 2)...(position + 5)].allSatisfy({ $0 == UInt8(ascii: "0") })
            {
                throw .invalid("a string contains \\u0000 (NUL), which cannot be stored")
            }
            offset = position + 2
        }
    }

    /// Why the decoder refused `data`: invalid UTF-8 named as such, anything else as the decoder said.
    static func describeRefusal(_ data: Data, _ error: any Error) -> RequestError {
        if String(validating: data, as: UTF8.self) == nil { return .invalidJSON("not valid UTF-8") }
        let what = DecodingErrorText.describe(error)
        return what == "not valid JSON" ? .invalidJSON(what) : .invalid(what)
    }

    /// A stored JSON value: finite numbers, at most ``maximumDepth`` levels, at most `maximumBytes` once encoded.
    public static func checkStored(_ value: JSONValue, field: String, maximumBytes: Int) throws(RequestError) {
        try walk(value, field: field, depth: 0)
        let size = (try? WireCoding.encode(value).count) ?? Int.max
        guard size <= maximumBytes else { throw .invalid("\"\(field)\" is \(size) bytes; at most \(maximumBytes) are accepted") }
    }

    private static func walk(_ value: JSONValue, field: String, depth: Int) throws(RequestError) {
        guard depth <= maximumDepth else { throw .invalid("\"\(field)\" nests deeper than \(maximumDepth) levels") }
        switch value {
        case .number(let number) where !number.isFinite: throw .invalid("\"\(field)\" holds a number that is not finite")
        case .array(let items): for item in items { try walk(item, field: field, depth: depth + 1) }
        case .object(let members): for member in members.values { try walk(member, field: field, depth: depth + 1) }
        default: break
        }
    }

    /// A string field: at most `maximum` characters, optionally not blank.
    public static func checkString(_ value: String?, field: String, maximum: Int, allowsEmpty: Bool = true) throws(RequestError) {
        guard let value else { return }
        if !allowsEmpty, trimmed(value).isEmpty { throw .invalid("\"\(field)\" must not be empty or only white space") }
        guard value.count <= maximum else { throw .invalid("\"\(field)\" is longer than \(maximum) characters") }
    }

    /// White space as the API document's `\S` means it (ECMAScript: Unicode White_Space and U+FEFF): a name made only of
    /// form feeds or no-break spaces is as empty as one of spaces.
    public static func isBlank(_ scalar: Unicode.Scalar) -> Bool { scalar.properties.isWhitespace || scalar == "\u{FEFF}" }

    /// `value` without leading and trailing white space (``isBlank(_:)``).
    public static func trimmed(_ value: String) -> String {
        let scalars = value.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isBlank($0) }), let last = scalars.lastIndex(where: { !isBlank($0) }) else { return "" }
        return String(scalars[first...last])
    }

    /// An integer field within `range`.
    public static func checkRange<T: Comparable>(_ value: T?, field: String, _ range: ClosedRange<T>) throws(RequestError) {
        guard let value else { return }
        guard range.contains(value) else { throw .invalid("\"\(field)\" must be between \(range.lowerBound) and \(range.upperBound)") }
    }
}
