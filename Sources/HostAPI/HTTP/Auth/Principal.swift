import Foundation

/// Who may call a route: every route declares one (``RouteTable`` has no way to add a route without it).
enum Access: String, Sendable, CaseIterable {
    /// Anyone (health, build info, metrics, the OpenAPI document).
    case open
    /// `ADMIN_TOKEN` (or development mode without one).
    case admin
    /// The token of the workspace in the path's `:id`, or the admin token.
    case workspace
    /// The registry's gate, on the workspace id in the JSON body: that workspace's token once it has one; before
    /// that (an external agent's first contact), anyone — and the answer carries the new token.
    case registry
}

/// Who is calling, as the access middleware established it before the handler ran.
enum Principal: Sendable, Equatable {
    /// No credentials (open routes only).
    case anonymous
    /// No credentials, allowed because the Host runs in development mode without `ADMIN_TOKEN`.
    case developer
    /// The admin token.
    case admin
    /// A workspace token, for this workspace.
    case workspace(UUID)
    /// A registry call for a workspace that has no live token yet (the answer mints one).
    case agentBootstrap(UUID)
}
