/// A POSIX tar (ustar, with GNU long names and pax `path` records) reader and writer, in memory.
///
/// Providers use it for plugin archives, snapshots and engines' archive APIs. Reading never trusts the archive:
/// sizes are bounds-checked and every entry path is validated with ``RelativePath``.
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

    // MARK: Reading

    /// Parses `bytes`. Throws INVALID_ARGUMENT for a truncated or malformed archive or an unsafe path.
    public init(parsing bytes: [UInt8]) throws(ProviderError) {
        var entries: [Entry] = []
        var offset = 0
        var pendingLongName: String?
        while offset + 512 <= bytes.count {
            let header = bytes[offset..<offset + 512]
            if header.allSatisfy({ $0 == 0 }) { break }
            guard Self.checksumMatches(header) else { throw .invalidArgument("tar archive is corrupt: bad header checksum at byte \(offset)") }
            let size = try Self.octal(header, 124, 12, field: "size")
            let typeflag = header[header.startIndex + 156]
            let dataStart = offset + 512
            guard size >= 0, dataStart + size <= bytes.count else {
                throw .invalidArgument("tar archive is truncated: entry at byte \(offset) claims \(size) bytes")
            }
            let data = Array(bytes[dataStart..<dataStart + size])
            offset = dataStart + (size + 511) / 512 * 512

            switch typeflag {
            case UInt8(ascii: "L"):
                pendingLongName = Self.cString(data[...])
                continue
            case UInt8(ascii: "x"):
                if let path = Self.paxPath(data) { pendingLongName = path }
                continue
            case UInt8(ascii: "g"):
                continue
            default:
                break
            }

            let longName = pendingLongName
            pendingLongName = nil
            var name = longName ?? Self.cString(header[(header.startIndex)..<(header.startIndex + 100)])
            let magic = Self.cString(header[(header.startIndex + 257)..<(header.startIndex + 263)])
            if longName == nil, magic.hasPrefix("ustar") {
                let prefix = Self.cString(header[(header.startIndex + 345)..<(header.startIndex + 500)])
                if !prefix.isEmpty && !name.hasPrefix(prefix) { name = prefix + "/" + name }
            }
            let mode = (try? Self.octal(header, 100, 8, field: "mode")) ?? 0o644
            let link = Self.cString(header[(header.startIndex + 157)..<(header.startIndex + 257)])
            let path = try RelativePath(name, allowRoot: true)
            if path.isRoot { continue }  // "./" itself
            let kind: Entry.Kind
            switch typeflag {
            case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): kind = .file
            case UInt8(ascii: "5"): kind = .directory
            case UInt8(ascii: "2"): kind = .symlink(target: link)
            case UInt8(ascii: "1"): kind = .hardlink(target: link)
            default: kind = .other(typeflag: typeflag)
            }
            let uid = (try? Self.octal(header, 108, 8, field: "uid")) ?? 0
            let gid = (try? Self.octal(header, 116, 8, field: "gid")) ?? 0
            entries.append(Entry(path: path, kind: kind, mode: mode & 0o7777, contents: kind == .file ? data : [], uid: uid, gid: gid))
        }
        self.entries = entries
    }

    static func checksumMatches(_ header: ArraySlice<UInt8>) -> Bool {
        guard let stored = try? octal(header, 148, 8, field: "checksum") else { return false }
        var sum = 0
        for (i, byte) in header.enumerated() { sum += (148..<156).contains(i) ? 32 : Int(byte) }
        return sum == stored
    }

    static func octal(_ header: ArraySlice<UInt8>, _ start: Int, _ length: Int, field: String) throws(ProviderError) -> Int {
        let raw = header[(header.startIndex + start)..<(header.startIndex + start + length)]
        if let first = raw.first, first & 0x80 != 0 {  // GNU base-256
            var value = 0
            for byte in raw.dropFirst() { value = value << 8 | Int(byte) }
            return value
        }
        let text = cString(raw).trimmingSpaces()
        if text.isEmpty { return 0 }
        guard let value = Int(text, radix: 8) else { throw .invalidArgument("tar archive is corrupt: bad \(field) field") }
        return value
    }

    static func cString(_ bytes: ArraySlice<UInt8>) -> String {
        let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
        return String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
    }

    static func paxPath(_ data: [UInt8]) -> String? {
        var index = 0
        while index < data.count {
            guard let space = data[index...].firstIndex(of: UInt8(ascii: " ")),
                let length = Int(String(decoding: data[index..<space], as: UTF8.self)), length > 0,
                index + length <= data.count
            else { return nil }
            let record = String(decoding: data[(space + 1)..<(index + length - 1)], as: UTF8.self)
            if record.hasPrefix("path=") { return String(record.dropFirst(5)) }
            index += length
        }
        return nil
    }

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

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " { s.removeFirst() }
        while let l = s.last, l == " " { s.removeLast() }
        return String(s)
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
