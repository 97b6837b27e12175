import ProviderKit
import ProviderWire

/// A remote script's own refusal, told by its exit status: a typed reason the provider decides on (a missing files
/// root is created and the script run again), never a message to match.
struct RemoteScriptError: Error, Sendable, ProviderErrorConvertible {
    /// The exit statuses the provider's scripts use (``FilePolicy/ShellExit`` has 60…65).
    enum Reason: Int, Sendable {
        /// The instance's bootstrap has not mounted the configs volume yet.
        case notBootstrapped = 47
        /// A writing script found no files root (it exits before reading its input).
        case rootMissing = 48
    }

    var reason: Reason
    /// The operation, for the message (`write notes/a.txt`).
    var what: String

    var providerError: ProviderError {
        switch reason {
        case .notBootstrapped: .unavailable("\(what): the instance's bootstrap has not mounted the configs volume yet")
        case .rootMissing: .notFound("\(what): the files root does not exist yet")
        }
    }
}
