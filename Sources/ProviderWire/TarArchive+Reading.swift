import CLibArchive

#if canImport(Glibc)
import Glibc
#endif

extension TarArchive {
    /// Bounds on what reading an archive may produce. Sizes count the bytes actually read, never a header's claim.
    public struct Limits: Sendable, Hashable {
        /// Most entries (headers of any kind).
        public var maxEntries: Int
        /// Most file content in total, bytes.
        public var maxTotalBytes: Int
        /// Whether symlinks may point outside the archive's root and device, FIFO or socket entries may appear
        /// (an engine's copy of a workload's own directory), or are refused (anything a client uploads).
        public var allowsUnsafeEntries: Bool

        public init(maxEntries: Int, maxTotalBytes: Int, allowsUnsafeEntries: Bool) {
            self.maxEntries = maxEntries
            self.maxTotalBytes = maxTotalBytes
            self.allowsUnsafeEntries = allowsUnsafeEntries
        }

        /// A client's archive (plugins, snapshots restored into a workspace): 10 000 entries, 256 MiB, strict.
        public static let upload = Limits(maxEntries: 10_000, maxTotalBytes: 256 << 20, allowsUnsafeEntries: false)
        /// An engine's archive of a workload's directory: the same bounds, links and special files kept as they are.
        public static let engine = Limits(maxEntries: 100_000, maxTotalBytes: 1 << 30, allowsUnsafeEntries: true)
    }

    /// Parses `bytes` under `limits`. Throws INVALID_ARGUMENT naming what is wrong (see ``TarArchiveError``).
    public init(parsing bytes: [UInt8], limits: Limits = .upload) throws(ProviderError) {
        do { self = try Self.read(bytes, limits: limits) } catch { throw error.providerError }
    }

    /// Parses `bytes` with libarchive (ustar, pax, GNU and v7 tar; no compression) under `limits`.
    public static func read(_ bytes: [UInt8], limits: Limits = .upload) throws(TarArchiveError) -> TarArchive {
        if bytes.isEmpty || bytes.allSatisfy({ $0 == 0 }) { return TarArchive() }
        if bytes.starts(with: [0x1f, 0x8b]) { throw .compressed }
        // Names are UTF-8 (pax says so): this thread converts them in a UTF-8 locale for the call, whatever the
        // process's locale (C under the Host), or libarchive refuses every non-ASCII name with a warning.
        let previousLocale = Self.utf8Locale.map { uselocale($0) }
        defer { if let previousLocale { uselocale(previousLocale) } }
        guard let reader = archive_read_new() else { throw .corrupt("libarchive could not allocate a reader") }
        defer { archive_read_free(reader) }
        archive_read_support_format_tar(reader)
        // The buffer is borrowed for the whole read: libarchive reads from it in place.
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(TarArchiveError) in try Self.entries(reader, buffer, limits: limits) }
        }
        return TarArchive(entries: try result.get())
    }

    private static func entries(_ reader: OpaquePointer, _ buffer: UnsafeRawBufferPointer, limits: Limits) throws(TarArchiveError) -> [Entry] {
        guard archive_read_open_memory(reader, buffer.baseAddress, buffer.count) == ARCHIVE_OK else { throw .corrupt(Self.message(reader)) }
        var entries: [Entry] = []
        var total = 0
        var headers = 0
        var chunk = [UInt8](repeating: 0, count: 64 << 10)  // one read buffer for the whole archive
        while true {
            var handle: OpaquePointer?
            let status = archive_read_next_header(reader, &handle)
            if status == ARCHIVE_EOF { break }
            // A warning (a malformed pax record libarchive skipped, say) refuses a client's archive: it is not what it claims.
            let acceptable = status == ARCHIVE_OK || (status == ARCHIVE_WARN && limits.allowsUnsafeEntries)
            guard acceptable, let entry = handle else { throw .corrupt(Self.message(reader)) }
            headers += 1
            guard headers <= limits.maxEntries else { throw .tooManyEntries(limit: limits.maxEntries) }
            if let parsed = try Self.entry(entry, reader: reader, limits: limits, total: &total, chunk: &chunk) { entries.append(parsed) }
        }
        return entries
    }

    /// One header and its data; nil for the archive's root (`./`).
    private static func entry(
        _ entry: OpaquePointer, reader: OpaquePointer, limits: Limits, total: inout Int, chunk: inout [UInt8]
    ) throws(TarArchiveError)
        -> Entry?
    {
        guard let rawName = archive_entry_pathname(entry).map({ String(cString: $0) }) else { throw .corrupt("an entry has no name") }
        guard !rawName.utf8.contains(0), rawName.utf8.count <= 4096 else { throw .unsafePath(rawName, reason: "name is too long") }
        let path: RelativePath
        do { path = try RelativePath(rawName, allowRoot: true) } catch { throw .unsafePath(rawName, reason: error.message) }
        let mode = Int(archive_entry_perm(entry)) & 0o7777
        let uid = Int(clamping: archive_entry_uid(entry))
        let gid = Int(clamping: archive_entry_gid(entry))
        let kind: Entry.Kind
        if let target = archive_entry_hardlink(entry).map({ String(cString: $0) }) {
            do { _ = try RelativePath(target) } catch { throw .unsafeLink(path.string, target: target) }
            kind = .hardlink(target: target)
        } else {
            switch UInt32(archive_entry_filetype(entry)) & clibarchive_ifmt {
            case clibarchive_ifreg: kind = .file
            case clibarchive_ifdir: kind = .directory
            case clibarchive_iflnk:
                let target = archive_entry_symlink(entry).map { String(cString: $0) } ?? ""
                if !limits.allowsUnsafeEntries, !Self.staysInside(link: target, at: path) { throw .unsafeLink(path.string, target: target) }
                kind = .symlink(target: target)
            default:
                if !limits.allowsUnsafeEntries { throw .specialFile(path.string) }
                kind = .other(typeflag: 0)
            }
        }
        var contents: [UInt8] = []
        if kind == .file { contents = try Self.data(of: entry, reader: reader, limits: limits, total: &total, chunk: &chunk) }
        if path.isRoot { return nil }
        return Entry(path: path, kind: kind, mode: mode, contents: contents, uid: uid, gid: gid)
    }

    /// A file's content, read by libarchive straight into its array (no per-byte copying in Swift): the size the
    /// header declares, refused beyond what the limits still allow; a size-less entry is read in chunks.
    private static func data(
        of entry: OpaquePointer, reader: OpaquePointer, limits: Limits, total: inout Int, chunk: inout [UInt8]
    ) throws(TarArchiveError) -> [UInt8] {
        let remaining = limits.maxTotalBytes - total
        guard archive_entry_size_is_set(entry) != 0 else {
            var contents: [UInt8] = []
            while true {
                let read = chunk.withUnsafeMutableBytes { archive_read_data(reader, $0.baseAddress, $0.count) }
                if read == 0 { return contents }
                guard read > 0 else { throw .corrupt(Self.message(reader)) }
                total += read
                guard total <= limits.maxTotalBytes else { throw .tooLarge(limit: limits.maxTotalBytes) }
                chunk.withUnsafeBytes { contents += UnsafeRawBufferPointer(rebasing: $0[0..<read]) }
            }
        }
        let declared = archive_entry_size(entry)
        guard declared >= 0, declared <= Int64(remaining) else { throw .tooLarge(limit: limits.maxTotalBytes) }
        var failed = false
        let contents = [UInt8](unsafeUninitializedCapacity: Int(declared)) { buffer, count in
            while count < buffer.count {
                let read = archive_read_data(reader, buffer.baseAddress! + count, buffer.count - count)
                if read <= 0 {
                    failed = read < 0
                    break
                }
                count += read
            }
        }
        if failed { throw .corrupt(Self.message(reader)) }
        total += contents.count
        return contents
    }

    /// Whether a symlink at `path` pointing to `target` resolves inside the archive's root (lexically).
    static func staysInside(link target: String, at path: RelativePath) -> Bool {
        guard !target.isEmpty, !target.hasPrefix("/") else { return false }
        var depth = path.components.count - 1
        for part in target.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": depth -= 1
            default: depth += 1
            }
            if depth < 0 { return false }
        }
        return true
    }

    /// `C.UTF-8` (glibc has it built in), made once; nil where it does not exist.
    nonisolated(unsafe) private static let utf8Locale: locale_t? = newlocale(LC_CTYPE_MASK, "C.UTF-8", nil)

    private static func message(_ reader: OpaquePointer) -> String {
        archive_error_string(reader).map { String(cString: $0) } ?? "unreadable archive"
    }
}

/// Why an archive was refused, in words a client can act on.
public enum TarArchiveError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not a tar archive, truncated, or malformed (libarchive's reason).
    case corrupt(String)
    /// gzip: only uncompressed POSIX tar is accepted.
    case compressed
    case tooManyEntries(limit: Int)
    case tooLarge(limit: Int)
    /// A name that is absolute, climbs out with `..`, or is not valid.
    case unsafePath(String, reason: String)
    /// A symlink or hard link whose target leaves the archive's root.
    case unsafeLink(String, target: String)
    /// A device, FIFO or socket.
    case specialFile(String)

    public var description: String {
        switch self {
        case .corrupt(let reason): "tar archive is corrupt: \(reason)"
        case .compressed: "archive is gzip-compressed; send an uncompressed POSIX tar archive"
        case .tooManyEntries(let limit): "tar archive has more than \(limit) entries"
        case .tooLarge(let limit): "tar archive holds more than \(limit) bytes of files"
        case .unsafePath(let name, let reason): "tar entry \"\(name)\" is refused: \(reason)"
        case .unsafeLink(let name, let target): "tar entry \(name) links to \"\(target)\", outside the archive's root"
        case .specialFile(let name): "tar entry \(name) is a device, FIFO or socket; only files, directories and links are accepted"
        }
    }

    /// Whether the archive was refused for its size (413) rather than its shape (400).
    public var isTooLarge: Bool {
        switch self {
        case .tooManyEntries, .tooLarge: true
        default: false
        }
    }

    /// The same refusal in the ABI's taxonomy.
    public var providerError: ProviderError { .invalidArgument(description) }
}
