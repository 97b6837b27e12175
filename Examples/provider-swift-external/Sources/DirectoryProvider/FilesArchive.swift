import Foundation
import ProviderKit
import ProviderWire

/// A files root packed into, and unpacked from, a POSIX tar archive (snapshots and plugins). Both directions apply
/// ProviderKit's ``FilePolicy``: packing never follows a link, unpacking never writes through one.
extension LocalFilesRoot {
    /// Every directory and regular file below the root, found with `lstat` (links and other kinds are left out).
    func archive(context: CallContext) throws -> TarArchive {
        var archive = TarArchive()
        func walk(_ components: [String]) throws {
            try context.checkDeadline("archiving \(path)")
            let directory = ([path] + components).joined(separator: "/")
            for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() {
                let relative = try RelativePath((components + [name]).joined(separator: "/"))
                let location = location(of: relative)
                let mode = ((try? FileManager.default.attributesOfItem(atPath: location))?[.posixPermissions] as? Int) ?? 0o644
                switch Self.node(at: location) {
                case .directory?:
                    archive.entries.append(.init(path: relative, kind: .directory, mode: mode))
                    try walk(relative.components)
                case .file?:
                    let contents = [UInt8](try Data(contentsOf: URL(fileURLWithPath: location)))
                    archive.entries.append(.init(path: relative, kind: .file, mode: mode, contents: contents))
                default: continue
                }
            }
        }
        try walk([])
        return archive
    }

    /// Writes the files and directories of `archive` below the root, each checked as `write_file` (or, for a
    /// directory, `install_plugin`) would be; answers how many files it wrote. A link entry is INVALID_ARGUMENT
    /// (``TarArchive`` already refused absolute and `..` entries).
    func unpack(_ archive: TarArchive, context: CallContext) throws -> Int {
        var files = 0
        for entry in archive.entries {
            try context.checkDeadline("unpacking an archive into \(path)")
            switch entry.kind {
            case .directory:
                try createParents(of: entry.path)
                let (location, _) = try resolve(entry.path, for: .makeDirectory)
                try FileManager.default.createDirectory(atPath: location, withIntermediateDirectories: true)
            case .file:
                try createParents(of: entry.path)
                let (location, _) = try resolve(entry.path, for: .write)
                try Data(entry.contents).write(to: URL(fileURLWithPath: location), options: .atomic)
                try FileManager.default.setAttributes([.posixPermissions: entry.mode & 0o777], ofItemAtPath: location)
                files += 1
            case .symlink, .hardlink, .other:
                throw ProviderError.invalidArgument("archive entry \(entry.path) is not a file or directory; links are refused")
            }
        }
        return files
    }
}
