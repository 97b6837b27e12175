import HTTPTypes
import Hummingbird
import Synchronization

/// Bounds the requests one client has in flight: a bearer token, or the peer address without one.
/// Beyond the limit the answer is 429 with `Retry-After`, before any body is read or any work starts, so one client
/// cannot take every worker, connection or byte of memory from the others.
struct ConcurrencyLimitMiddleware: RouterMiddleware {
    typealias Context = HostRequestContext
    let limiter: ConcurrencyLimiter

    init(limit: Int) { limiter = ConcurrencyLimiter(limit: limit) }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let client = Self.client(request, context)
        guard limiter.enter(client) else {
            throw APIError(
                .tooManyRequests, "too_many_requests", "more than \(limiter.limit) requests in flight for this client; retry shortly",
                headers: [.retryAfter: "1"]
            )
        }
        defer { limiter.leave(client) }
        return try await next(request, context)
    }

    /// Who is asking: the token (held only while its requests run, like the request itself), else the peer's address.
    static func client(_ request: Request, _ context: Context) -> String {
        if let bearer = request.bearer { return "t:" + bearer }
        return "a:" + (context.channel.remoteAddress?.ipAddress ?? "unknown")
    }
}

/// In-flight counts per client key.
final class ConcurrencyLimiter: Sendable {
    let limit: Int
    private let counts = Mutex<[String: Int]>([:])

    init(limit: Int) { self.limit = limit }

    /// Takes a slot for `client`; false when it already holds `limit`.
    func enter(_ client: String) -> Bool {
        counts.withLock { counts in
            let current = counts[client, default: 0]
            guard current < limit else { return false }
            counts[client] = current + 1
            return true
        }
    }

    func leave(_ client: String) {
        counts.withLock { counts in
            let remaining = counts[client, default: 1] - 1
            counts[client] = remaining > 0 ? remaining : nil
        }
    }
}
