import Foundation
import Logging
import ProviderHTTP
import ProviderWire
import ServiceLifecycle
import Synchronization

/// The agent's side of the platform registry: registers, then heartbeats every interval, on one dedicated thread
/// (libcurl blocks; Swift's cooperative pool and the event loops must not). As a service it stops the thread when
/// graceful shutdown begins, waking it from any pause; a request in flight is abandoned with the process.
final class PlatformLink: Service, Sendable {
    /// Whether the thread must stop, and why.
    private struct State {
        var stopped = false
        /// Stopped by graceful shutdown (a signal), not by the group's cancellation (a failed server).
        var gracefully = false
    }

    private let config: AgentConfig
    /// The platform's base URL (the link starts only when there is one).
    private let platform: String
    private let tokens: TokenStore
    private let uptime: Uptime
    private let logger: Logger
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)

    init(config: AgentConfig, uptime: Uptime, logger: Logger) {
        self.config = config
        self.platform = config.platformURL ?? ""
        self.tokens = TokenStore(path: config.tokenFile, fallback: config.environmentToken)
        self.uptime = uptime
        self.logger = logger
    }

    /// Starts the thread (once the server listens).
    func start() {
        guard config.platformURL != nil else {
            logger.warning("PLATFORM_URL is not set: serving A2A without registering with a platform")
            return
        }
        Thread { [self] in
            Thread.current.name = "platform-link"  // from inside: on Linux a name set before start() never reaches the OS thread
            loop()
        }.start()
    }

    /// Waits for graceful shutdown (or cancellation), then stops the thread.
    func run() async {
        let gracefully = (try? await gracefulShutdown()) != nil
        state.withLock { $0 = State(stopped: true, gracefully: gracefully) }
        wake.signal()
    }

    /// Whether the link was stopped by graceful shutdown.
    var stoppedGracefully: Bool { state.withLock { $0.gracefully } }

    private var isStopped: Bool { state.withLock { $0.stopped } }

    /// Waits `seconds`, or less when stopped; false once stopped.
    private func pause(_ seconds: Double) -> Bool {
        guard !isStopped else { return false }
        _ = wake.wait(timeout: .now() + seconds)
        return !isStopped
    }

    private func loop() {
        guard register() else { return }
        while pause(config.heartbeatSeconds) { heartbeat() }
    }

    /// Registers until the platform accepts, or the link stops (false).
    private func register() -> Bool {
        let body = JSONBody.encode(RegisterRequest(id: config.workspaceID, url: config.advertisedURL, agentCard: config.card))
        let url = platform + "/registry/register"
        var backoff = 0.5
        while !isStopped {
            var delay = backoff
            do {
                let reply = try post(body, to: url)
                switch reply.status {
                case 200..<300:
                    logger.info("registered with \(platform) as \(config.advertisedURL) (status \(reply.status))")
                    saveToken(from: reply.text)
                    return true
                case 401:
                    // The next attempt reads the token file again: the platform may have written a new one.
                    logger.warning("registration refused (401); re-reading the token and retrying in \(delay) s")
                case 500...:
                    logger.warning("registration failed (status \(reply.status)); retrying in \(delay) s")
                default:
                    delay = 10
                    logger.error("registration rejected (status \(reply.status)): \(reply.text.prefix(500)); retrying in 10 s")
                }
            } catch {
                logger.warning("registration failed: \(error); retrying in \(delay) s")
            }
            backoff = min(backoff * 2, 10)
            guard pause(delay) else { return false }
        }
        return false
    }

    /// Sends one heartbeat, again once after a 401 (with the token re-read).
    private func heartbeat() {
        let body = JSONBody.encode(HeartbeatRequest(workspaceId: config.workspaceID, uptimeSeconds: uptime.seconds), snakeCase: true)
        let url = platform + "/registry/heartbeat"
        do {
            var reply = try post(body, to: url)
            if reply.status == 401 {
                logger.warning("heartbeat refused (401); re-reading the token and retrying")
                reply = try post(body, to: url)
            }
            guard (200..<300).contains(reply.status) else {
                return logger.warning("heartbeat answered \(reply.status): \(reply.text.prefix(500))")
            }
            logger.debug("heartbeat sent (status \(reply.status))")
        } catch {
            logger.warning("heartbeat failed: \(error)")
        }
    }

    /// One POST with the project's libcurl transport (no proxy, no redirects), on this link's own thread: 2 s to
    /// connect, 10 s in all, at most 1 MiB of answer.
    private func post(_ body: Data, to url: String) throws(ProviderError) -> CurlResponse {
        var headers = ["Content-Type: application/json", "Origin: \(platform)"]
        if let token = tokens.current() { headers.append("Authorization: Bearer \(token)") }
        let request = CurlRequest(
            method: "POST", url: url, headers: headers, body: [UInt8](body), timeoutMs: 10_000, connectTimeoutMs: 2_000,
            maximumResponseBytes: 1 << 20)
        return try CurlTransport.perform(request, backend: "the platform at \(platform)")
    }

    /// Keeps the token a registration answer carries, if it carries one.
    private func saveToken(from body: String) {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard let reply = try? decoder.decode(RegisterReply.self, from: Data(body.utf8)),
            let token = reply.authToken, !token.isEmpty
        else { return }
        do {
            try tokens.save(token)
            logger.info("saved the workspace token to \(tokens.path ?? "memory (no token file configured)")")
        } catch {
            logger.error("could not save the workspace token: \(error)")
        }
    }
}
