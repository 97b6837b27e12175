import Foundation
import ProviderWire
import Testing

/// The archives a review crafted against the hand-written reader (a pax length past its block, a base-256 size
/// that overflows), and the refusals the upload limits promise. Each must be a ``TarArchiveError``, never a trap.
@Suite struct TarArchiveAttackTests {
    /// A header block with `typeflag` and raw `size` bytes (12), checksummed like a real one.
    static func header(name: String, typeflag: UInt8, size: [UInt8]) -> [UInt8] {
        var block = TarArchive.rawEntry(name: name, contents: [], typeflag: typeflag)
        for (i, byte) in size.enumerated() { block[124 + i] = byte }
        for i in 148..<156 { block[i] = 32 }
        let sum = block[0..<512].reduce(0) { $0 + Int($1) }
        let digits = Array(String(sum, radix: 8).utf8)
        let field = [UInt8](repeating: UInt8(ascii: "0"), count: 6 - digits.count) + digits + [0, 32]
        for (i, byte) in field.enumerated() { block[148 + i] = byte }
        return Array(block[0..<512])
    }

    static func octal(_ value: Int) -> [UInt8] {
        let digits = Array(String(value, radix: 8).utf8)
        return [UInt8](repeating: UInt8(ascii: "0"), count: 11 - digits.count) + digits + [0]
    }

    @Test func paxRecordWhoseLengthPointsPastItsBlockIsRefused() {
        let record = Array("999999 path=evil\n".utf8)
        var archive = Self.header(name: "pax", typeflag: UInt8(ascii: "x"), size: Self.octal(record.count))
        archive += record + [UInt8](repeating: 0, count: 512 - record.count)
        archive += TarArchive.rawEntry(name: "file", contents: [1]) + TarArchive.trailer
        #expect(throws: TarArchiveError.self) { try TarArchive.read(archive) }
    }

    @Test func base256SizeThatOverflowsIsRefused() {
        let archive = Self.header(name: "huge", typeflag: UInt8(ascii: "0"), size: [0xff] + [UInt8](repeating: 0xff, count: 11)) + TarArchive.trailer
        #expect(throws: TarArchiveError.self) { try TarArchive.read(archive) }
        let positive = Self.header(name: "huge", typeflag: UInt8(ascii: "0"), size: [0x80] + [UInt8](repeating: 0xff, count: 11))
        #expect(throws: TarArchiveError.self) { try TarArchive.read(positive + TarArchive.trailer) }
    }

    @Test func truncatedAndGarbageInputsAreRefused() {
        var truncated = TarArchive.rawEntry(name: "big", contents: [UInt8](repeating: 1, count: 2000))
        truncated.removeLast(1000)
        #expect(throws: TarArchiveError.self) { try TarArchive.read(truncated) }
        #expect(throws: TarArchiveError.self) { try TarArchive.read(Array("not a tar archive at all".utf8)) }
        #expect(throws: TarArchiveError.compressed) { try TarArchive.read([0x1f, 0x8b, 8, 0, 0, 0]) }
    }

    @Test(arguments: ["../escape.txt", "/etc/passwd", "a/../../b"])
    func entriesOutsideTheRootAreRefused(_ name: String) {
        let archive = TarArchive.rawEntry(name: name, contents: [1]) + TarArchive.trailer
        #expect(throws: TarArchiveError.self) { try TarArchive.read(archive) }
    }

    @Test func linksLeavingTheRootAndDevicesAreRefusedUnderUploadLimits() throws {
        let outward = TarArchive.rawEntry(name: "a/link", contents: [], typeflag: UInt8(ascii: "2"), link: "../../etc") + TarArchive.trailer
        #expect(throws: TarArchiveError.unsafeLink("a/link", target: "../../etc")) { try TarArchive.read(outward) }
        let absolute = TarArchive.rawEntry(name: "link", contents: [], typeflag: UInt8(ascii: "2"), link: "/etc/shadow") + TarArchive.trailer
        #expect(throws: TarArchiveError.self) { try TarArchive.read(absolute) }
        let hardlink = TarArchive.rawEntry(name: "hard", contents: [], typeflag: UInt8(ascii: "1"), link: "../x") + TarArchive.trailer
        #expect(throws: TarArchiveError.self) { try TarArchive.read(hardlink) }
        let device = TarArchive.rawEntry(name: "dev", contents: [], typeflag: UInt8(ascii: "3")) + TarArchive.trailer
        #expect(throws: TarArchiveError.specialFile("dev")) { try TarArchive.read(device) }
        let fifo = TarArchive.rawEntry(name: "fifo", contents: [], typeflag: UInt8(ascii: "6")) + TarArchive.trailer
        #expect(throws: TarArchiveError.specialFile("fifo")) { try TarArchive.read(fifo) }
        // Inside the root is fine, and the engine's limits keep what a workload made.
        let inward = TarArchive.rawEntry(name: "a/link", contents: [], typeflag: UInt8(ascii: "2"), link: "../b") + TarArchive.trailer
        #expect(try TarArchive.read(inward).entries.first?.kind == .symlink(target: "../b"))
        #expect(try TarArchive.read(outward, limits: .engine).entries.count == 1)
    }

    @Test func entryCountAndTotalBytesAreBounded() {
        var many: [UInt8] = []
        for i in 0..<11 { many += TarArchive.rawEntry(name: "f\(i)", contents: [1]) }
        many += TarArchive.trailer
        let small = TarArchive.Limits(maxEntries: 10, maxTotalBytes: 1 << 20, allowsUnsafeEntries: false)
        #expect(throws: TarArchiveError.tooManyEntries(limit: 10)) { try TarArchive.read(many, limits: small) }
        let big = TarArchive.rawEntry(name: "big", contents: [UInt8](repeating: 7, count: 5000)) + TarArchive.trailer
        let tight = TarArchive.Limits(maxEntries: 10, maxTotalBytes: 4096, allowsUnsafeEntries: false)
        #expect(throws: TarArchiveError.tooLarge(limit: 4096)) { try TarArchive.read(big, limits: tight) }
        #expect(TarArchiveError.tooLarge(limit: 1).isTooLarge)
    }

    @Test func emptyInputIsAnEmptyArchive() throws {
        #expect(try TarArchive.read([]).entries.isEmpty)
        #expect(try TarArchive.read(TarArchive.trailer).entries.isEmpty)
    }

    /// Every file of the committed fuzz corpus for the tar path is answered (archive or error), never a crash — and
    /// the seeds with a known answer get it: the well-formed ones are read whole, the attacks are refused.
    @Test func fuzzCorpusIsAnswered() throws {
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/corpus/tar")
        func read(_ name: String) throws -> TarArchive { try TarArchive.read([UInt8](try Data(contentsOf: corpus.appendingPathComponent(name)))) }
        #expect(try read("ustar-plugin").entries.map(\.path.string) == ["plugin", "plugin/plugin.yaml", "plugin/run.sh"])
        #expect(try read("gnu-longname").entries.first?.contents.count == 700)
        #expect(try read("pax-path").entries.first?.contents == Array("hello".utf8))
        for attack in ["links", "fifo", "traversal", "pax-length-past-block", "base256-overflow"] {
            #expect(throws: TarArchiveError.self, "\(attack) was accepted") { try read(attack) }
        }
        try everyCorpusFileIsAnswered(corpus)
    }

    private func everyCorpusFileIsAnswered(_ corpus: URL) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: corpus.path)
        #expect(!names.isEmpty)
        for name in names {
            let bytes = [UInt8](try Data(contentsOf: corpus.appendingPathComponent(name)))
            _ = try? TarArchive.read(bytes)
        }
    }
}
