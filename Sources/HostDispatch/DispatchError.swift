import Foundation
import ProviderWire

/// Why a dispatched verb did not succeed. The HTTP layer maps each case to a status code.
public enum DispatchError: Error, Sendable, CustomStringConvertible {
    /// The workspace's provider is configured nowhere or failed to load; the workspace is kept untouched.
    case providerNotLoaded(provider: String)
    /// A create asked for a provider this Host does not offer to workspaces.
    case providerNotAllowed(provider: String, allowed: [String])
    /// No provider is configured at all.
    case noProvider
    /// The provider answered an error (or the Host's verdict on its answer).
    case provider(status: ProviderStatus, message: String, provider: String, verb: Verb, retryable: Bool)
    /// A reload was refused; the old library keeps serving.
    case reloadFailed(provider: String, reason: String)
    /// A provision carried a template's files and the provider did not confirm it wrote them (it predates
    /// `seed_archive`, or ignores it): the instance it started was stopped.
    case templateNotSeeded(provider: String, template: String)

    public var description: String {
        switch self {
        case .providerNotLoaded(let provider):
            "provider \"\(provider)\" is not loaded on this Host; the workspace is kept as it is. Configure and load it, or check the Host's log for why it was refused"
        case .providerNotAllowed(let provider, let allowed):
            "provider \"\(provider)\" is not available for workspaces; choose one of: \(allowed.joined(separator: ", "))"
        case .noProvider:
            "no provider is configured: add one under providers in the Host configuration"
        case .provider(let status, let message, let provider, let verb, _):
            "\(provider) \(verb.wireName) failed: \(status.name): \(message)"
        case .reloadFailed(let provider, let reason):
            "provider \(provider) was not reloaded (the loaded library keeps serving): \(reason)"
        case .templateNotSeeded(let provider, let template):
            "the \(provider) provider did not confirm it wrote the files of template \"\(template)\" (its provision answer has no "
                + "\"seeded\": true; it does not support seed_archive), so its instance was stopped; use a provider that seeds templates"
        }
    }

    /// The provider status behind the error, when there is one.
    public var providerStatus: ProviderStatus? {
        if case .provider(let status, _, _, _, _) = self { return status }
        return nil
    }
}
