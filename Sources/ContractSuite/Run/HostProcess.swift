import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Processes of this machine, for the cases about providers that declare `host_processes`.
enum HostProcess {
    /// Whether `pid` is a live process (a zombie — ended, not yet reaped — is not).
    static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return true }
        let state = stat[stat.index(after: close)...].drop { $0 == " " }.first
        return state != "Z" && state != "X"
    }
}
