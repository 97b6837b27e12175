#if canImport(Glibc)
import Glibc
#endif

/// Reads a NUL-terminated string a provider wrote, never past `limit` bytes: a longer (or unterminated) one is cut
/// at the limit and says so.
enum BoundedCString {
    static func read(_ pointer: UnsafePointer<CChar>, limit: Int) -> String {
        let length = strnlen(pointer, limit)
        let text = String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
        return length < limit ? text : text + "… (cut at \(limit) bytes)"
    }
}
