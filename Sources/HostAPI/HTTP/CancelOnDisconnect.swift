import Hummingbird
import NIOCore
import Synchronization

/// Watches one connection for the client going away (its input closed, or the connection dropped) and tells the
/// requests in flight on it. Installed in every HTTP/1 pipeline (``HostServer``); found by a request through its
/// channel, without a hop to the event loop.
final class ConnectionMonitor: Sendable {
    private struct State {
        var closed = false
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var next = 0
    }

    private let state = Mutex(State())
    private static let byChannel = Mutex<[ObjectIdentifier: ConnectionMonitor]>([:])

    /// The monitor of `channel`, while its connection is open.
    static func of(_ channel: any Channel) -> ConnectionMonitor? { byChannel.withLock { $0[ObjectIdentifier(channel)] } }

    fileprivate static func register(_ monitor: ConnectionMonitor, for channel: any Channel) {
        byChannel.withLock { $0[ObjectIdentifier(channel)] = monitor }
    }

    fileprivate static func unregister(_ channel: any Channel) {
        _ = byChannel.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    fileprivate func close() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.closed = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when the client has gone away, or when the calling task is cancelled.
    func waitUntilClosed() async {
        let id = state.withLock { state -> Int in
            state.next += 1
            return state.next
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.closed || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}

/// The pipeline handler behind ``ConnectionMonitor``: passes everything through and notices the end of input.
final class ConnectionMonitorHandler: ChannelInboundHandler, RemovableChannelHandler {
    // Parts are passed on untouched, never unwrapped.
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny

    private let monitor = ConnectionMonitor()

    init() {}

    func handlerAdded(context: ChannelHandlerContext) { ConnectionMonitor.register(monitor, for: context.channel) }

    func handlerRemoved(context: ChannelHandlerContext) {
        ConnectionMonitor.unregister(context.channel)
        monitor.close()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.fireChannelRead(data) }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { monitor.close() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        monitor.close()
        context.fireChannelInactive()
    }
}

/// Runs the handler so that the client going away cancels it: the cancellation reaches the provider verb in flight
/// (its `is_cancelled`), in process or across a runner's socket.
struct CancelOnDisconnectMiddleware: RouterMiddleware {
    typealias Context = HostRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let monitor = ConnectionMonitor.of(context.channel) else { return try await next(request, context) }
        return try await withoutActuallyEscaping(next) { next in
            // `next` runs once, in a child task that ends before this scope does (structured: the group awaits it).
            nonisolated(unsafe) let next = next
            return try await withThrowingTaskGroup(of: Response?.self) { group in
                group.addTask { try await next(request, context) }
                group.addTask {
                    await monitor.waitUntilClosed()
                    return nil
                }
                defer { group.cancelAll() }
                while let finished = try await group.next() {
                    if let response = finished { return response }
                    // The client went away: cancel the handler and answer what it ends with (nobody reads it).
                    group.cancelAll()
                }
                throw CancellationError()
            }
        }
    }
}
