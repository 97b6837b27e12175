import Crypto
import Foundation
import Synchronization

/// Per-workspace bearer tokens: 32 random bytes, base64url; only their sha256 is stored.
///
/// Validation answers from an in-memory cache (hash → workspace) for at most ``cacheLifetime`` after a lookup;
/// issuing and revoking write through to both. The lifetime bounds how long another replica sharing the database
/// keeps accepting a token this one revoked (1 s by default; measured in the tests).
public final class TokenStore: Sendable {
    let pool: PostgresPool
    private let cache = CacheBox<TokenCache>(TokenCache())
    /// How long a validated token is trusted without asking the database again.
    public let cacheLifetime: Duration

    /// Validated token hashes with when they were checked, and the workspaces known to have a live token.
    struct TokenCache: Sendable {
        var byHash: [Data: (workspace: UUID, checked: ContinuousClock.Instant)] = [:]
        var live: [UUID: ContinuousClock.Instant] = [:]

        mutating func add(_ hash: Data, _ workspace: UUID) {
            let now = ContinuousClock.now
            byHash[hash] = (workspace, now)
            live[workspace] = now
        }

        mutating func forget(_ workspace: UUID) {
            guard live.removeValue(forKey: workspace) != nil else { return }
            byHash = byHash.filter { $0.value.workspace != workspace }
        }
    }

    public init(pool: PostgresPool, cacheLifetime: Duration = .seconds(1)) {
        self.pool = pool
        self.cacheLifetime = cacheLifetime
    }

    private func fresh(_ checked: ContinuousClock.Instant) -> Bool { ContinuousClock.now - checked < cacheLifetime }

    /// Issues the first token of an external workspace that has never had one, or answers nil — in one transaction
    /// that locks the workspace's row, so two concurrent first registrations cannot both get a token, and a managed
    /// workspace (whose token the Host hands its instance) never gets one from the registry.
    public func issueFirst(_ workspaceId: UUID) async throws -> String? {
        let token = Self.generate()
        let hash = Self.hash(token)
        let issued = try await pool.transaction { connection -> Bool in
            let row = try connection.query("SELECT runtime FROM workspaces WHERE id = $1 FOR UPDATE", [.uuid(workspaceId)]).first
            guard row?.string("runtime") == "external" else { return false }
            let hadOne = !(try connection.query("SELECT 1 FROM workspace_auth_tokens WHERE workspace_id = $1 LIMIT 1", [.uuid(workspaceId)]).isEmpty)
            if hadOne { return false }
            try connection.query(
                "INSERT INTO workspace_auth_tokens (workspace_id, token_hash, prefix) VALUES ($1, $2::bytea, $3)",
                [.uuid(workspaceId), .bytes([UInt8](hash)), .string(String(token.prefix(8)))]
            )
            return true
        }
        guard issued else { return nil }
        cache.update { $0.add(hash, workspaceId) }
        return token
    }

    /// Whether the registry may mint a first token for the workspace: it is external and has never had one.
    public func awaitsFirstToken(_ workspaceId: UUID) async throws -> Bool {
        try await pool.run { connection in
            !(try connection.query(
                """
                SELECT 1 FROM workspaces w WHERE w.id = $1 AND w.runtime = 'external'
                AND NOT EXISTS (SELECT 1 FROM workspace_auth_tokens t WHERE t.workspace_id = w.id)
                """, [.uuid(workspaceId)]
            ).isEmpty)
        }
    }

    /// A new random token (32 bytes, base64url without padding).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func hash(_ token: String) -> Data { Data(SHA256.hash(data: Data(token.utf8))) }

    /// Revokes the workspace's live tokens and issues a new one, answered once in clear.
    public func rotate(_ workspaceId: UUID) async throws -> String {
        let token = Self.generate()
        let hash = Self.hash(token)
        try await pool.transaction { connection in
            try connection.query(
                "UPDATE workspace_auth_tokens SET revoked_at = now() WHERE workspace_id = $1 AND revoked_at IS NULL", [.uuid(workspaceId)]
            )
            try connection.query(
                "INSERT INTO workspace_auth_tokens (workspace_id, token_hash, prefix) VALUES ($1, $2::bytea, $3)",
                [.uuid(workspaceId), .bytes([UInt8](hash)), .string(String(token.prefix(8)))]
            )
        }
        cache.update { cache in
            cache.forget(workspaceId)
            cache.add(hash, workspaceId)
        }
        return token
    }

    /// Issues an additional token, keeping the live ones (test tokens; the agent's own token stays valid).
    public func issue(_ workspaceId: UUID) async throws -> String {
        let token = Self.generate()
        let hash = Self.hash(token)
        try await pool.run { connection in
            try connection.query(
                "INSERT INTO workspace_auth_tokens (workspace_id, token_hash, prefix) VALUES ($1, $2::bytea, $3)",
                [.uuid(workspaceId), .bytes([UInt8](hash)), .string(String(token.prefix(8)))]
            )
        }
        cache.update { $0.add(hash, workspaceId) }
        return token
    }

    /// Revokes every live token of the workspace.
    public func revokeAll(_ workspaceId: UUID) async throws {
        try await pool.run { connection in
            try connection.query(
                "UPDATE workspace_auth_tokens SET revoked_at = now() WHERE workspace_id = $1 AND revoked_at IS NULL", [.uuid(workspaceId)]
            )
        }
        cache.update { $0.forget(workspaceId) }
    }

    /// Drops the workspace's tokens from the cache after they were revoked in SQL elsewhere (e.g. with the row's removal).
    public func forgetCached(_ workspaceId: UUID) {
        cache.update { $0.forget(workspaceId) }
    }

    /// The workspace a live token belongs to, or nil.
    public func workspace(forToken token: String) async throws -> UUID? {
        let hash = Self.hash(token)
        if let cached = cache.read({ $0.byHash[hash] }), fresh(cached.checked) { return cached.workspace }
        let found = try await pool.run { connection in
            try connection.query(
                "SELECT workspace_id FROM workspace_auth_tokens WHERE token_hash = $1::bytea AND revoked_at IS NULL",
                [.bytes([UInt8](hash))]
            ).first?.uuid("workspace_id")
        }
        if let found {
            cache.update { $0.add(hash, found) }
        } else {
            cache.update { $0.byHash.removeValue(forKey: hash) }
        }
        return found
    }

    /// Whether the database holds a live token for the workspace (no cache: for sweeps and tests).
    public func hasLiveTokenInDatabase(_ workspaceId: UUID) async throws -> Bool {
        try await pool.run { connection in
            !(try connection.query(
                "SELECT 1 FROM workspace_auth_tokens WHERE workspace_id = $1 AND revoked_at IS NULL LIMIT 1", [.uuid(workspaceId)]
            ).isEmpty)
        }
    }

    /// Whether the workspace has any live token (registry calls then require one).
    public func hasLiveToken(_ workspaceId: UUID) async throws -> Bool {
        if let checked = cache.read({ $0.live[workspaceId] }), fresh(checked) { return true }
        return try await pool.run { connection in
            !(try connection.query(
                "SELECT 1 FROM workspace_auth_tokens WHERE workspace_id = $1 AND revoked_at IS NULL LIMIT 1", [.uuid(workspaceId)]
            ).isEmpty)
        }
    }
}

/// A small lock-protected value (for caches read on hot paths).
public final class CacheBox<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    public init(_ value: Value) { self.value = Mutex(value) }
    public func read<T>(_ body: (Value) -> T) -> T { value.withLock { body($0) } }
    public func update(_ body: (inout Value) -> Void) { value.withLock { body(&$0) } }
}
