#if canImport(Glibc)
import Glibc
#endif

/// A child's wait status in words: "killed by signal 11 (SIGSEGV)", "exited with status 0".
enum ExitStatus {
    static let signalNames: [Int32: String] = [
        SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP", SIGABRT: "SIGABRT",
        SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1", SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2",
        SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM", SIGXCPU: "SIGXCPU", SIGXFSZ: "SIGXFSZ", SIGSYS: "SIGSYS",
    ]

    static func describe(_ status: Int32) -> String {
        let signal = status & 0x7f
        if signal == 0 {
            let code = (status >> 8) & 0xff
            return "exited with status \(code)" + (RunnerExit.meaning[code].map { " (\($0))" } ?? "")
        }
        return "was killed by signal \(signal) (\(signalNames[signal] ?? "SIG\(signal)"))"
    }
}

/// The runner's own exit codes (anything else is the provider's `exit`).
enum RunnerExit {
    static let refused: Int32 = 3
    static let protocolError: Int32 = 65
    static let parentGone: Int32 = 69
    static let lostConnection: Int32 = 71

    static let meaning: [Int32: String] = [
        refused: "the library was refused",
        protocolError: "it received a frame it could not use",
        parentGone: "its Host was already gone",
        lostConnection: "its connection to the Host broke: the provider closed or reused descriptors it does not own",
    ]
}
