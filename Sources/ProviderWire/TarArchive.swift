/// A POSIX tar archive in memory: read through libarchive (fuzzed upstream, and here), written as ustar with GNU
/// long names.
///
/// Providers use it for plugin archives, snapshots and engines' archive APIs. Reading never trusts the archive: it is
/// bounded by ``Limits`` (entries, bytes), every path is validated with ``RelativePath``, and under the upload limits
/// links that leave the root and device or FIFO entries are refused (``TarArchiveError``).
public struct TarArchive: Sendable {
    /// One entry of an archive.
    public struct Entry: Sendable, Hashable {
        public enum Kind: Sendable, Hashable {
            case file
            case directory
            case symlink(target: String)
            case hardlink(target: String)
            case other(typeflag: UInt8)
        }
        /// The path, validated and normalised.
        public var path: RelativePath
        public var kind: Kind
        public var mode: Int
        public var contents: [UInt8]
        /// Owner written into the header (readers here ignore it; engines may apply it).
        public var uid: Int
        public var gid: Int

        public init(path: RelativePath, kind: Kind, mode: Int, contents: [UInt8] = [], uid: Int = 0, gid: Int = 0) {
            self.path = path
            self.kind = kind
            self.mode = mode
            self.contents = contents
            self.uid = uid
            self.gid = gid
        }
    }

    public var entries: [Entry]

    public init(entries: [Entry] = []) { self.entries = entries }

    // MARK: Reading: TarArchive+Reading.swift (through libarchive)

    // MARK: Writing

    /// Serialises the archive (ustar; GNU `L` records for names longer than 100 bytes).
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        for entry in entries {
            var name = entry.path.string
            if case .directory = entry.kind { name += "/" }
            if name.utf8.count > 100 {
                out += Self.header(name: "././@LongLink", mode: 0, size: name.utf8.count + 1, typeflag: UInt8(ascii: "L"), link: "")
                Self.appendPadded(Array(name.utf8) + [0], to: &out)
                name = String(decoding: name.utf8.prefix(100), as: UTF8.self)
            }
            switch entry.kind {
            case .file:
                out += Self.header(
                    name: name, mode: entry.mode, size: entry.contents.count, typeflag: UInt8(ascii: "0"), link: "", uid: entry.uid, gid: entry.gid)
                Self.appendPadded(entry.contents, to: &out)
            case .directory:
                out += Self.header(name: name, mode: entry.mode, size: 0, typeflag: UInt8(ascii: "5"), link: "", uid: entry.uid, gid: entry.gid)
            case .symlink(let target):
                out += Self.header(name: name, mode: entry.mode, size: 0, typeflag: UInt8(ascii: "2"), link: target)
            case .hardlink(let target):
                out += Self.header(name: name, mode: entry.mode, size: 0, typeflag: UInt8(ascii: "1"), link: target)
            case .other(let typeflag):
                out += Self.header(name: name, mode: entry.mode, size: 0, typeflag: typeflag, link: "")
            }
        }
        out += [UInt8](repeating: 0, count: 1024)
        return out
    }

    static func appendPadded(_ data: [UInt8], to out: inout [UInt8]) {
        out += data
        let padding = (512 - data.count % 512) % 512
        out += [UInt8](repeating: 0, count: padding)
    }

    static func header(name: String, mode: Int, size: Int, typeflag: UInt8, link: String, uid: Int = 0, gid: Int = 0) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, _ start: Int, _ length: Int) {
            for (i, byte) in text.utf8.prefix(length).enumerated() { h[start + i] = byte }
        }
        func putOctal(_ value: Int, _ start: Int, _ length: Int) {
            let digits = String(value, radix: 8)
            put(String(repeating: "0", count: max(0, length - 1 - digits.count)) + digits, start, length - 1)
        }
        put(name, 0, 100)
        putOctal(mode, 100, 8)
        putOctal(uid, 108, 8)
        putOctal(gid, 116, 8)
        putOctal(size, 124, 12)
        putOctal(0, 136, 12)
        h[156] = typeflag
        put(link, 157, 100)
        put("ustar", 257, 6)
        put("00", 263, 2)
        for i in 148..<156 { h[i] = 32 }
        let sum = h.reduce(0) { $0 + Int($1) }
        putOctal(sum, 148, 7)
        h[155] = 32
        return h
    }
}

extension TarArchive {
    /// One raw header + data block with an unvalidated name — only for building hostile archives in tests.
    public static func rawEntry(name: String, contents: [UInt8], typeflag: UInt8 = UInt8(ascii: "0"), link: String = "") -> [UInt8] {
        var out = header(name: name, mode: 0o644, size: contents.count, typeflag: typeflag, link: link)
        appendPadded(contents, to: &out)
        return out
    }

    /// The two zero blocks that end an archive.
    public static let trailer = [UInt8](repeating: 0, count: 1024)
}
