import Synchronization

/// Serialises verbs per workspace, so provision, stop and pause of one workspace never interleave: 64 mutexes, a
/// workspace id always hashing to the same one.
final class WorkspaceLocks: Sendable {
    /// One stripe (a `Mutex` cannot live in an array by value).
    private final class Stripe: Sendable {
        let mutex = Mutex(())
    }

    private let stripes: [Stripe] = (0..<64).map { _ in Stripe() }

    /// Runs `body` holding the stripe of `workspaceId` (FNV-1a of its bytes).
    func withLock<T: Sendable>(_ workspaceId: String, _ body: () throws -> T) throws -> T {
        try stripes[Int(StableHash.fnv1a(workspaceId) % UInt32(stripes.count))].mutex.withLock { _ in try body() }
    }
}

/// A short hash that is the same in every process and every run (Swift's `Hasher` is seeded per process).
enum StableHash {
    /// FNV-1a, 32 bits, of `text`'s UTF-8 bytes.
    static func fnv1a(_ text: String) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in text.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return hash
    }
}
