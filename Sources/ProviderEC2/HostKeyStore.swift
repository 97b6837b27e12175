import Foundation
import ProviderKit
import ProviderWire

/// How an instance's SSH host key is trusted. Never "not checked".
enum HostKeyPolicy: Sendable, Equatable {
    /// Every instance must present this fingerprint (`SHA256:…`), e.g. a key baked into the AMI.
    case pinned(String)
    /// The first fingerprint an instance presents is recorded under the provider's state directory (keyed by instance
    /// id, since EC2 reuses addresses); any later different one is refused.
    case trustOnFirstUse
}

/// Trust-on-first-use records: one file per instance id under `<state_dir>/host-keys/`.
struct HostKeyStore: Sendable {
    let directory: URL
    let policy: HostKeyPolicy

    /// Accepts `fingerprint` for `instanceId` or throws UNAUTHENTICATED naming both fingerprints.
    func verify(_ fingerprint: String, instanceId: String, target: String) throws(ProviderError) {
        switch policy {
        case .pinned(let expected):
            guard fingerprint == expected else {
                throw .unauthenticated("ssh \(target): host key \(fingerprint) does not match the pinned \(expected); refusing to connect")
            }
        case .trustOnFirstUse:
            let record = directory.appendingPathComponent(instanceId)
            if let known = try? String(contentsOf: record, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) {
                guard known == fingerprint else {
                    throw .unauthenticated(
                        "ssh \(target): host key of \(instanceId) changed from \(known) to \(fingerprint); refusing to connect (remove \(record.path) if the change is expected)"
                    )
                }
                return
            }
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                // Written to a temporary name and renamed: two verbs racing on first use never leave half a record.
                let temporary = directory.appendingPathComponent(".\(instanceId).\(UUID().uuidString)")
                try Data((fingerprint + "\n").utf8).write(to: temporary)
                if rename(temporary.path, record.path) != 0 { throw ProviderError.internal("rename failed: errno \(errno)") }
            } catch {
                throw .unavailable("cannot record the host key of \(instanceId) under \(directory.path): \(error)")
            }
        }
    }

    /// Forgets an instance (after it is terminated).
    func forget(_ instanceId: String) {
        try? FileManager.default.removeItem(at: directory.appendingPathComponent(instanceId))
    }

    /// The recorded fingerprint of an instance, if any.
    func recorded(_ instanceId: String) -> String? {
        try? String(contentsOf: directory.appendingPathComponent(instanceId), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
