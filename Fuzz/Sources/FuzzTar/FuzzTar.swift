import ProviderWire

/// The entry libFuzzer links against (its runtime references the symbol); the driver in main.swift calls the same
/// function. Any bytes as a plugin archive, under both limit sets. An answer (archive or refusal) is fine;
/// a trap, an overflow or a sanitizer report is the bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTar(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 { fuzzTarInput(data, size) }

func fuzzTarInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    for limits in [TarArchive.Limits.upload, .engine, .init(maxEntries: 4, maxTotalBytes: 1024, allowsUnsafeEntries: false)] {
        if let archive = try? TarArchive.read(bytes, limits: limits) {
            // What was read must write back and read again to the same entries (the writer is ours too).
            let again = try? TarArchive.read(archive.serialized(), limits: .engine)
            if let again, again.entries.count != archive.entries.count { fatalError("tar round trip changed the entry count") }
        }
    }
    return 0
}
