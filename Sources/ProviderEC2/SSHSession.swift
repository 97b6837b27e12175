import CLibSSH
import Foundation
import ProviderKit
import ProviderWire

/// One SSH connection through libssh. It is used by one provider worker thread at a time (a verb, or the
/// ``SSHSessionPool`` between verbs), never concurrently.
///
/// The server's host key is never trusted blindly: ``hostKeyFingerprint()`` answers its SHA256 fingerprint for the
/// caller to check (pinned or trust-on-first-use, see ``HostKeyStore``) before ``authenticate(with:)``.
final class SSHSession: @unchecked Sendable {
    private let session: OpaquePointer
    let target: String

    private static let initialised: Void = { _ = ssh_init() }()

    /// Connects (TCP + key exchange) to `host:port` as `user`, bounded by `timeoutMs` and the call's deadline.
    init(host: String, port: Int, user: String, timeoutMs: Int, context: CallContext) throws(ProviderError) {
        _ = Self.initialised
        target = "\(user)@\(host):\(port)"
        try context.checkDeadline("connecting to \(target)")
        guard let handle = ssh_new() else { throw .internal("ssh_new failed") }
        var portValue = UInt32(port)
        var timeoutUsec = max(1, min(timeoutMs, context.remainingMilliseconds)) * 1000
        var processConfig = false
        host.withCString { _ = ssh_options_set(handle, SSH_OPTIONS_HOST, $0) }
        user.withCString { _ = ssh_options_set(handle, SSH_OPTIONS_USER, $0) }
        _ = ssh_options_set(handle, SSH_OPTIONS_PORT, &portValue)
        _ = ssh_options_set(handle, SSH_OPTIONS_TIMEOUT_USEC, &timeoutUsec)
        // Only what this provider configures counts: no ~/.ssh/config, no agent.
        _ = ssh_options_set(handle, SSH_OPTIONS_PROCESS_CONFIG, &processConfig)
        guard ssh_connect(handle) == SSH_OK else {
            // Not yet owned by `self`: freed here, once (deinit does not run for a failed init).
            let message = ssh_get_error(UnsafeMutableRawPointer(handle)).map { String(cString: $0) } ?? "unknown error"
            ssh_free(handle)
            throw .unavailable("ssh connect to \(target) failed: \(message)")
        }
        session = handle
        // A peer that vanishes without a reset (an instance terminated elsewhere) must not hold a worker thread until
        // TCP gives up: keepalives find it within ~25 s, and unacknowledged data fails after the connect timeout.
        let fd = ssh_get_fd(handle)
        if fd >= 0 {
            var on: Int32 = 1
            var idle: Int32 = 10
            var interval: Int32 = 5
            var count: Int32 = 3
            var userTimeout = UInt32(max(1000, timeoutMs))
            let size = socklen_t(MemoryLayout<Int32>.size)
            setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, size)
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, &idle, size)
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, &interval, size)
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, &count, size)
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, &userTimeout, socklen_t(MemoryLayout<UInt32>.size))
        }
    }

    /// False once libssh has seen the connection fail.
    var canOpenChannels: Bool { ssh_is_connected(session) != 0 }

    deinit {
        ssh_disconnect(session)
        ssh_free(session)
    }

    /// True when the connection still carries a channel (one open/close round trip): checked before reuse.
    func isAlive() -> Bool {
        guard ssh_is_connected(session) != 0, let channel = ssh_channel_new(session) else { return false }
        defer { ssh_channel_free(channel) }
        guard ssh_channel_open_session(channel) == SSH_OK else { return false }
        ssh_channel_close(channel)
        return true
    }

    var lastError: String {
        guard let raw = ssh_get_error(UnsafeMutableRawPointer(session)) else { return "unknown error" }
        return String(cString: raw)
    }

    /// The server's host key as OpenSSH prints it: `SHA256:<base64 without padding>`.
    func hostKeyFingerprint() throws(ProviderError) -> String {
        var key: OpaquePointer?
        guard ssh_get_server_publickey(session, &key) == SSH_OK, let key else {
            throw .internal("ssh \(target): the server sent no host key: \(lastError)")
        }
        defer { ssh_key_free(key) }
        var hash: UnsafeMutablePointer<UInt8>?
        var length = 0
        guard ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &length) == 0, let hash else {
            throw .internal("ssh \(target): cannot hash the host key")
        }
        defer {
            var owned: UnsafeMutablePointer<UInt8>? = hash
            ssh_clean_pubkey_hash(&owned)
        }
        let digest = Data(bytes: hash, count: length).base64EncodedString().trimmingCharacters(in: CharacterSet(charactersIn: "="))
        return "SHA256:" + digest
    }

    /// Public-key authentication; a refusal is UNAUTHENTICATED with libssh's reason.
    func authenticate(with key: SSHKey) throws(ProviderError) {
        let answer = ssh_userauth_publickey(session, nil, key.key)
        guard answer == SSH_AUTH_SUCCESS.rawValue else {
            throw .unauthenticated("ssh \(target): the server refused the key (\(answer == SSH_AUTH_DENIED.rawValue ? "denied" : lastError))")
        }
    }

    /// What a remote command did.
    struct Outcome {
        var exitStatus: Int
        var stdout: [UInt8]
        var stderr: String
    }

    /// Runs `command` through the remote shell, feeding `stdin`, and collects its output, bounded by the call's deadline,
    /// `timeoutMs`, and `maxOutputBytes` (more is INVALID_ARGUMENT: the caller asked for something too large to answer).
    func run(
        _ command: String, stdin: [UInt8] = [], maxOutputBytes: Int = 64 << 20, timeoutMs: Int, context: CallContext
    ) throws(ProviderError) -> Outcome {
        let limit = MonotonicClock.now() + UInt64(timeoutMs) * 1_000_000
        func checkTime(_ what: String) throws(ProviderError) {
            try context.checkDeadline("\(what) \(target)")
            if MonotonicClock.now() > limit { throw .deadlineExceeded("ssh \(target): the command ran longer than \(timeoutMs) ms") }
        }
        guard let channel = ssh_channel_new(session) else { throw .internal("ssh \(target): cannot create a channel: \(lastError)") }
        defer {
            ssh_channel_close(channel)
            ssh_channel_free(channel)
        }
        guard ssh_channel_open_session(channel) == SSH_OK else { throw .unavailable("ssh \(target): cannot open a session: \(lastError)") }
        guard ssh_channel_request_exec(channel, command) == SSH_OK else { throw .unavailable("ssh \(target): exec refused: \(lastError)") }
        // A script may exit before reading all its input (it refused the request): stop writing and let its exit
        // status say why, rather than reporting the broken write.
        var offset = 0
        var inputFailed = false
        while offset < stdin.count && !inputFailed {
            try checkTime("sending input to")
            let chunk = min(32 * 1024, stdin.count - offset)
            let written = stdin.withUnsafeBytes { buffer in ssh_channel_write(channel, buffer.baseAddress! + offset, UInt32(chunk)) }
            if written > 0 { offset += Int(written) } else { inputFailed = true }
        }
        if !inputFailed { ssh_channel_send_eof(channel) }
        // Both streams are drained as data comes: a command that fills its stderr while nothing reads it would
        // never reach EOF on stdout.
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            var progressed = false
            for isStderr in [Int32(0), 1] {
                let count = buffer.withUnsafeMutableBytes { ssh_channel_read_nonblocking(channel, $0.baseAddress, UInt32($0.count), isStderr) }
                if count == SSH_ERROR { throw .unavailable("ssh \(target): reading output failed: \(lastError)") }
                guard count > 0 else { continue }
                progressed = true
                if isStderr == 0 { stdout += buffer[0..<Int(count)] } else { stderr += buffer[0..<Int(count)] }
                if stdout.count + stderr.count > maxOutputBytes {
                    throw .invalidArgument("ssh \(target): the answer is larger than \(maxOutputBytes) bytes")
                }
            }
            if progressed { continue }
            if ssh_channel_is_eof(channel) != 0 || ssh_channel_is_open(channel) == 0 { break }
            try checkTime("waiting for")
            // Wakes on stdout data or EOF; stderr data waits at most this long.
            _ = ssh_channel_poll_timeout(channel, 20, 0)
        }
        // The exit status follows EOF within moments: asked for at most a second.
        let status =
            try Poll.until(
                context, limit: MonotonicClock.deadline(afterMilliseconds: 1000), initialDelay: .milliseconds(2), maxDelay: .milliseconds(20)
            ) { () throws(ProviderError) -> Int32? in
                let status = ssh_channel_get_exit_status(channel)
                if status != -1 || ssh_channel_is_closed(channel) != 0 { return status }
                try checkTime("waiting for the exit status from")
                return nil
            } ?? -1
        if status == -1 && ssh_is_connected(session) == 0 {
            throw .unavailable("ssh \(target): the connection closed before the command's exit status arrived")
        }
        if inputFailed && status == 0 { throw .unavailable("ssh \(target): the command ended before reading all its input: \(lastError)") }
        return Outcome(exitStatus: Int(status), stdout: stdout, stderr: String(decoding: stderr.prefix(2000), as: UTF8.self))
    }
}

/// An SSH private key held by libssh: loaded from a file (static-key mode) or generated (EC2 Instance Connect).
final class SSHKey: @unchecked Sendable {
    let key: OpaquePointer

    private init(key: OpaquePointer) { self.key = key }
    deinit { ssh_key_free(key) }

    /// Loads an unencrypted private key file (OpenSSH or PEM).
    static func load(path: String) throws(ProviderError) -> SSHKey {
        var key: OpaquePointer?
        guard ssh_pki_import_privkey_file(path, nil, nil, nil, &key) == SSH_OK, let key else {
            throw .invalidArgument("ssh key \(path) cannot be read (missing, unreadable or passphrase-protected)")
        }
        return SSHKey(key: key)
    }

    /// A fresh ed25519 key, used once and never written to disk.
    static func generateEd25519() throws(ProviderError) -> SSHKey {
        var key: OpaquePointer?
        guard ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) == SSH_OK, let key else { throw .internal("ed25519 key generation failed") }
        return SSHKey(key: key)
    }

    /// The public half in `authorized_keys` form (`ssh-ed25519 AAAA…`).
    func publicKeyLine() throws(ProviderError) -> String {
        var base64: UnsafeMutablePointer<CChar>?
        guard ssh_pki_export_pubkey_base64(key, &base64) == SSH_OK, let base64 else { throw .internal("cannot export the public key") }
        defer { ssh_string_free_char(base64) }
        let type = String(cString: ssh_key_type_to_char(ssh_key_type(key)))
        return "\(type) \(String(cString: base64))"
    }
}
