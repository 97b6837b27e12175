import Hummingbird
import NIOCore

/// The Host's request context: Hummingbird's core storage plus the ``Principal`` the access middleware
/// established and the connection, so a client that goes away can cancel the work it started.
struct HostRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// Set by ``AccessMiddleware`` before any handler runs.
    var principal: Principal = .anonymous
    /// The body the registry gate already read (bounded), so the handler does not read it twice.
    var collectedBody: [UInt8]?
    /// The connection the request came on.
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}
