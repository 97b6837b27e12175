import Foundation
import Synchronization

/// The workspace token: read from the token file on every use (the platform may rotate it), else the one the platform
/// issued this run, else `MOLECULE_WORKSPACE_TOKEN`. A new token is written to the file atomically, mode 0600.
final class TokenStore: Sendable {
    /// Writing the token file failed.
    struct WriteError: Error, CustomStringConvertible {
        let description: String
    }

    let path: String?
    private let fallback: String?
    private let issued = Mutex<String?>(nil)

    init(path: String?, fallback: String?) {
        self.path = path
        self.fallback = fallback
    }

    /// The token to present, if any.
    func current() -> String? {
        if let path, let text = try? String(contentsOfFile: path, encoding: .utf8) {
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !token.isEmpty { return token }
        }
        return issued.withLock { $0 } ?? fallback
    }

    /// Remembers `token` and writes it to the token file (a temporary file renamed over it).
    func save(_ token: String) throws(WriteError) {
        issued.withLock { $0 = token }
        guard let path else { return }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let temporary = "\(path).tmp-\(getpid())"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw WriteError(description: "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        let bytes = Array(token.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw WriteError(description: "cannot write \(path): \(reason)")
        }
    }
}
