import Foundation
import ProviderWire
import Synchronization

/// What a backend gives a session: its input, its pty size and its end. Output flows the other way, into the
/// session's ``SessionOutput``, from a reader the backend runs.
public protocol SessionChannel: Sendable {
    /// Sends input; answers how many bytes were taken.
    func write(_ bytes: [UInt8]) throws(ProviderError) -> Int
    /// Changes the pty size.
    func resize(_ size: PtySize) throws(ProviderError)
    /// Ends the command (its whole process group) and releases the channel. Idempotent; must not block long.
    func terminate()
}

/// One open session.
public final class ProviderSession: Sendable {
    public let id: String
    public let workspaceId: String
    public let output: SessionOutput
    public let channel: any SessionChannel

    init(id: String, workspaceId: String, output: SessionOutput, channel: any SessionChannel) {
        self.id = id
        self.workspaceId = workspaceId
        self.output = output
        self.channel = channel
    }
}

/// A provider instance's open sessions, bounded in number, addressed by id and workspace; the same bookkeeping and
/// the same answers (NOT_FOUND for an unknown session, QUOTA_EXCEEDED past the bound) on every backend.
public final class SessionTable: Sendable {
    /// The most sessions open at once in this instance.
    public let limit: Int
    private let sessions = Mutex<[String: ProviderSession]>([:])

    public init(limit: Int = 64) { self.limit = limit }

    /// Opens a session for `workspaceId`: `start` starts the command with the session's output buffer and answers
    /// its channel.
    public func open(
        workspaceId: String, start: (SessionOutput) throws -> any SessionChannel
    ) throws -> ProviderSession {
        let count = sessions.withLock { $0.count }
        guard count < limit else { throw ProviderError.quotaExceeded("\(count) sessions are open; this provider allows \(limit) at once") }
        let output = SessionOutput()
        let channel = try start(output)
        let session = ProviderSession(id: "s-" + UUID().uuidString.lowercased(), workspaceId: workspaceId, output: output, channel: channel)
        sessions.withLock { $0[session.id] = session }
        return session
    }

    /// The session `ref` names; NOT_FOUND when it is unknown or belongs to another workspace.
    public func session(_ workspaceId: String, _ sessionId: String) throws(ProviderError) -> ProviderSession {
        guard let session = sessions.withLock({ $0[sessionId] }), session.workspaceId == workspaceId else {
            throw .notFound("workspace \(workspaceId) has no session \(sessionId)")
        }
        return session
    }

    /// Ends and forgets the session; `closed: false` when there was none.
    public func close(_ ref: SessionRef) -> SessionStatusResponse {
        let session = sessions.withLock { table -> ProviderSession? in
            guard let session = table[ref.sessionId], session.workspaceId == ref.workspaceId else { return nil }
            table[ref.sessionId] = nil
            return session
        }
        guard let session else { return SessionStatusResponse(closed: false) }
        session.channel.terminate()
        return SessionStatusResponse(closed: true, exitCode: session.output.finalExitCode)
    }

    /// Ends and forgets every session of `workspaceId` (its instance stopped); answers how many there were.
    @discardableResult
    public func closeAll(workspaceId: String) -> Int {
        let ended = sessions.withLock { table -> [ProviderSession] in
            let mine = table.values.filter { $0.workspaceId == workspaceId }
            for session in mine { table[session.id] = nil }
            return mine
        }
        for session in ended { session.channel.terminate() }
        return ended.count
    }

    /// The ids of `workspaceId`'s open sessions.
    public func ids(of workspaceId: String) -> [String] {
        sessions.withLock { $0.values.filter { $0.workspaceId == workspaceId }.map(\.id).sorted() }
    }
}
