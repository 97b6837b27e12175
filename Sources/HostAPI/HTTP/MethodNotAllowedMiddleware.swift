import HTTPTypes
import Hummingbird

/// A path the Host serves, asked with a method it does not serve there (TRACE, say), is 405 with `Allow` — not the
/// 404 of a path that does not exist.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = HostRequestContext
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = routes.methods(serving: request.uri.path)
            guard !allowed.isEmpty else { throw error }
            throw APIError(
                .methodNotAllowed, "method_not_allowed",
                "\(request.method.rawValue) is not served on this path; use \(allowed.joined(separator: ", "))",
                headers: [.allow: allowed.joined(separator: ", ")]
            )
        }
    }
}

extension RouteTable {
    /// The methods registered for paths that `path` matches (`{id}` one segment, `{path}` one or more).
    func methods(serving path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var methods: Set<String> = []
        for entry in entries where Self.matches(entry.path, segments) { methods.insert(entry.method.uppercased()) }
        if methods.contains("GET") { methods.insert("HEAD") }
        return methods.sorted()
    }

    static func matches(_ pattern: String, _ segments: [Substring]) -> Bool {
        let parts = pattern.split(separator: "/", omittingEmptySubsequences: true)
        for (index, part) in parts.enumerated() {
            if part == "{path}" { return segments.count > index }
            guard index < segments.count else { return false }
            if part.hasPrefix("{") { continue }
            if part != segments[index] { return false }
        }
        return parts.count == segments.count
    }
}
