/// The messages between the Host and a runner process. On the socket each is a frame:
///
///     u32 big-endian length of what follows | u8 kind | payload
///
/// Requests and responses carry the same JSON bytes the C ABI carries, unchanged; the envelope around them is
/// fixed-width binary, so a call costs no extra JSON coding.
enum RunnerFrameKind: UInt8, Sendable {
    // Host → runner
    /// JSON ``RunnerStart``: load this library, create an instance. Answered `ready` or `refused`.
    case start = 0x01
    /// u64 call id, u32 verb, u64 deadline (CLOCK_MONOTONIC ns, shared by both processes), request bytes.
    case call = 0x02
    /// u64 call id: the Host abandoned the call (`is_cancelled` turns non-zero).
    case cancel = 0x03
    /// Release the instance and exit.
    case shutdown = 0x04

    // Runner → Host
    /// JSON ``ProviderIdentity``.
    case ready = 0x81
    /// JSON ``RunnerRefusal``; the runner exits after it.
    case refused = 0x82
    /// u64 call id, i32 status, u8 retryable, i32 native code, u32 message length, message, body.
    case result = 0x83
    /// u8 level, the line.
    case log = 0x84
    /// The event's JSON.
    case event = 0x85
}

/// The runner's instructions, sent once after it starts.
struct RunnerStart: Codable, Sendable {
    var path: String
    var configuration: [UInt8]
    var threads: Int
    var loadTimeoutMs: Int
    var createTimeoutMs: Int
}

/// Why a runner could not serve: the loader's refusal, or `create`'s.
struct RunnerRefusal: Codable, Sendable {
    var load: ProviderLoadError?
    var createStatus: Int32?
    var createMessage: String?
}

/// Builds a frame's bytes.
struct FrameBuilder {
    private(set) var bytes: [UInt8]

    init(_ kind: RunnerFrameKind, capacity: Int = 32) {
        bytes = [0, 0, 0, 0, kind.rawValue]
        bytes.reserveCapacity(capacity + 5)
    }

    mutating func append(_ value: UInt64) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }
    mutating func append(_ value: UInt32) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }
    mutating func append(_ value: Int32) { append(UInt32(bitPattern: value)) }
    mutating func append(_ value: UInt8) { bytes.append(value) }
    mutating func append(contentsOf data: some Collection<UInt8>) { bytes.append(contentsOf: data) }

    /// The frame, its length field filled in.
    func finished() -> [UInt8] {
        var frame = bytes
        let length = UInt32(frame.count - 4).bigEndian
        withUnsafeBytes(of: length) { frame.replaceSubrange(0..<4, with: $0) }
        return frame
    }
}

/// Reads a frame's payload, every read bounds-checked: a short or lying frame is an error, never a crash.
struct FrameParser {
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    private mutating func take(_ count: Int) throws(Malformed) -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count - offset >= count else {
            throw Malformed(description: "frame ends after \(bytes.count) bytes; \(offset + count) expected")
        }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    mutating func uint64() throws(Malformed) -> UInt64 { try take(8).reduce(0) { $0 << 8 | UInt64($1) } }
    mutating func uint32() throws(Malformed) -> UInt32 { try take(4).reduce(0) { $0 << 8 | UInt32($1) } }
    mutating func int32() throws(Malformed) -> Int32 { Int32(bitPattern: try uint32()) }
    mutating func uint8() throws(Malformed) -> UInt8 { try take(1).first! }
    mutating func bytes(_ count: Int) throws(Malformed) -> [UInt8] { Array(try take(count)) }
    /// Everything not read yet.
    mutating func rest() -> [UInt8] {
        defer { offset = bytes.count }
        return Array(bytes[offset...])
    }
}
