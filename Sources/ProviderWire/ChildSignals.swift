#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Spawn attributes that give a child process default signal dispositions and an empty signal mask.
///
/// The Host ignores SIGTERM and SIGINT (ServiceLifecycle receives them through a dispatch source) and an ignored
/// signal stays ignored across exec — a `sh` child cannot even `trap` it back. Every process the Host or a provider
/// starts goes through this, so a workspace's SIGTERM grace really is a graceful stop.
public enum ChildSignals {
    /// The signals reset to their default action in the child.
    static let reset: [Int32] = [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD, SIGTSTP, SIGTTIN, SIGTTOU]

    /// Adds `POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK` (glibc values) to `flags` and fills in the sets.
    public static func apply(to attributes: inout posix_spawnattr_t, flags: Int32 = 0) {
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in reset { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(flags | 0x04 | 0x08))
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), looked up at run time: Swift's Glibc module does
    /// not export it. With it, a child inherits only the descriptors it was given.
    public static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32).self)
    }()
}
