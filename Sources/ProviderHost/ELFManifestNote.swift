import Foundation

/// Reads a provider's ELF header and its `.note.molecule.provider` manifest **without loading it**.
public struct ELFManifestNote: Sendable {
    /// The manifest JSON from the note, if the library embeds one.
    public let manifestJSON: String?

    /// The note's section and the note's name (see `MP_MANIFEST_NOTE` in the header).
    static let sectionName = ".note.molecule.provider"
    static let noteName = "Molecule"

    /// Inspects `path`, reading only the ELF header, the section table and the note — not the whole file.
    /// Throws a reason when the file is not a 64-bit little-endian ELF shared object.
    public init(path: String) throws(ELFError) {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ELFError("cannot open the file") }
        defer { try? handle.close() }
        func read(_ offset: Int, _ count: Int) -> [UInt8] {
            guard offset >= 0, count > 0, count <= 16 << 20, (try? handle.seek(toOffset: UInt64(offset))) != nil,
                let data = try? handle.read(upToCount: count)
            else { return [] }
            return [UInt8](data)
        }
        let header = read(0, 64)
        guard header.count == 64, header[0] == 0x7f, header[1] == 0x45, header[2] == 0x4c, header[3] == 0x46 else {
            throw ELFError("no ELF header")
        }
        guard header[4] == 2, header[5] == 1 else { throw ELFError("not a 64-bit little-endian ELF file") }
        let type = Self.u16(header, 16)
        guard type == 3 else { throw ELFError("ELF type \(type) is not a shared object (ET_DYN)") }
        manifestJSON = Self.findNote(header: header, read: read)
    }

    /// An ELF format problem.
    public struct ELFError: Error, Sendable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    static func findNote(header: [UInt8], read: (Int, Int) -> [UInt8]) -> String? {
        let sectionOffset = Int(u64(header, 0x28))
        let entrySize = Int(u16(header, 0x3a))
        let count = Int(u16(header, 0x3c))
        let namesIndex = Int(u16(header, 0x3e))
        guard entrySize >= 64, count > 0, count < 4096, namesIndex < count else { return nil }
        let table = read(sectionOffset, count * entrySize)
        guard table.count == count * entrySize else { return nil }
        func section(_ i: Int) -> (name: Int, offset: Int, size: Int) {
            let base = i * entrySize
            return (Int(u32(table, base)), Int(u64(table, base + 0x18)), Int(u64(table, base + 0x20)))
        }
        let names = read(section(namesIndex).offset, section(namesIndex).size)
        for i in 0..<count {
            let s = section(i)
            guard s.name < names.count else { continue }
            let nameEnd = names[s.name...].firstIndex(of: 0) ?? names.count
            guard String(decoding: names[s.name..<nameEnd], as: UTF8.self) == sectionName else { continue }
            let bytes = read(s.offset, s.size)
            // One or more notes: namesz, descsz, type, name (padded to 4), desc (padded to 4).
            var cursor = 0
            while cursor + 12 <= bytes.count {
                let nameSize = Int(u32(bytes, cursor))
                let descSize = Int(u32(bytes, cursor + 4))
                let noteType = u32(bytes, cursor + 8)
                let nameAt = cursor + 12
                let descAt = nameAt + (nameSize + 3) / 4 * 4
                guard nameSize > 0, descAt + descSize <= bytes.count else { return nil }
                let name = String(decoding: bytes[nameAt..<(nameAt + nameSize - 1)], as: UTF8.self)
                if name == noteName, noteType == 1 {
                    let desc = bytes[descAt..<(descAt + descSize)]
                    let end = desc.firstIndex(of: 0) ?? desc.endIndex
                    return String(decoding: desc[desc.startIndex..<end], as: UTF8.self)
                }
                cursor = descAt + (descSize + 3) / 4 * 4
            }
        }
        return nil
    }

    static func u16(_ b: [UInt8], _ o: Int) -> UInt16 { o + 2 <= b.count ? UInt16(b[o]) | UInt16(b[o + 1]) << 8 : 0 }
    static func u32(_ b: [UInt8], _ o: Int) -> UInt32 {
        o + 4 <= b.count ? (0..<4).reduce(0) { $0 | UInt32(b[o + $1]) << (8 * UInt32($1)) } : 0
    }
    static func u64(_ b: [UInt8], _ o: Int) -> UInt64 {
        o + 8 <= b.count ? (0..<8).reduce(0) { $0 | UInt64(b[o + $1]) << (8 * UInt64($1)) } : 0
    }
}
