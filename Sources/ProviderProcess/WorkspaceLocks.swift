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
        var hash: UInt32 = 2_166_136_261
        for byte in workspaceId.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return try stripes[Int(hash % UInt32(stripes.count))].mutex.withLock { _ in try body() }
    }
}
