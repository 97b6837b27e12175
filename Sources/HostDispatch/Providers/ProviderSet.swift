import Logging
import ProviderHost
import ProviderWire

/// The loaded providers: loads every configured one (each where its isolation mode says), chooses the provider of
/// a new workspace from the configuration, reloads a library on request and releases them all at shutdown. It owns
/// every ``ProviderInstance`` privately; only the ``Dispatcher`` calls through it.
public final class ProviderSet: Sendable {
    private let instances: [String: ProviderInstance]
    /// The provider new workspaces get when they name none.
    public let defaultProvider: String?
    /// The providers a create request may name.
    public let allowedProviders: [String]
    /// Why configured providers were refused at load (each one line naming the file).
    public let refusals: [String]

    /// Loads every configured provider (concurrently, each bounded by its load and create deadlines); a library that
    /// is refused is logged and left out, the others serve.
    public init(specs: [ProviderSpec], defaultProvider: String?, allowedProviders: [String]?, logger: Logger) async {
        let started = await withTaskGroup(of: (Int, Result<ProviderInstance, ProviderStartError>).self) { group in
            for (index, spec) in specs.enumerated() {
                group.addTask { (index, await Self.start(spec, logger: logger)) }
            }
            var results: [(Int, Result<ProviderInstance, ProviderStartError>)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }
        }
        var instances: [String: ProviderInstance] = [:]
        var refusals: [String] = []
        for (index, result) in started {
            let spec = specs[index]
            switch result {
            case .failure(let error):
                logger.error("\(error.description)")
                refusals.append(error.description)
            case .success(let instance) where instance.name != spec.name:
                let message = "provider \(spec.library): refused: configured as \"\(spec.name)\" but its manifest says \"\(instance.name)\""
                logger.error("\(message)")
                refusals.append(message)
                await instance.shutdown()
            case .success(let instance) where instances[spec.name] != nil:
                let message = "provider \(spec.library): refused: a provider named \"\(spec.name)\" is already configured"
                logger.error("\(message)")
                refusals.append(message)
                await instance.shutdown()
            case .success(let instance):
                let identity = instance.identity
                logger.info(
                    "provider loaded",
                    metadata: [
                        "provider": "\(spec.name)", "version": "\(identity.manifest.version)", "path": "\(identity.path)",
                        "abi": "\(identity.abiVersion).\(identity.abiMinor)", "isolation": "\(instance.isolation.rawValue)",
                        "verbs": "\(identity.supportedVerbs.map(\.wireName).joined(separator: ","))",
                    ]
                )
                instances[spec.name] = instance
            }
        }
        self.instances = instances
        self.refusals = refusals
        self.defaultProvider = defaultProvider ?? specs.first?.name
        self.allowedProviders = allowedProviders ?? specs.map(\.name)
    }

    private static func start(_ spec: ProviderSpec, logger: Logger) async -> Result<ProviderInstance, ProviderStartError> {
        do throws(ProviderStartError) {
            return .success(try await ProviderInstance.start(spec.launch, logger: logger))
        } catch { return .failure(error) }
    }

    /// Whether `provider` is loaded and serving.
    public func isLoaded(_ provider: String) -> Bool { instances[provider] != nil }

    /// The names of the providers serving now.
    public var loaded: [String] { instances.keys.sorted() }

    /// The loaded providers, for operators.
    public var summaries: [ProviderSummary] {
        instances.keys.sorted().compactMap { name in instances[name].map { ProviderSummary($0, name: name) } }
    }

    /// The provider a new workspace gets: the requested one if offered, else the default.
    public func choose(requested: String?) throws(DispatchError) -> String {
        if let requested {
            guard allowedProviders.contains(requested) else { throw .providerNotAllowed(provider: requested, allowed: allowedProviders) }
            return requested
        }
        guard let defaultProvider else { throw .noProvider }
        return defaultProvider
    }

    /// Loads `provider`'s library again (or the one at `path`) and switches new calls to it; calls in flight finish on
    /// the old one. A library that fails to load leaves the old one serving.
    public func reload(provider: String, path: String?) async throws(DispatchError) -> ProviderSummary {
        guard let instance = instances[provider] else { throw .providerNotLoaded(provider: provider) }
        do { try await instance.reload(path: path) } catch { throw .reloadFailed(provider: provider, reason: error.description) }
        return ProviderSummary(instance, name: provider)
    }

    /// Calls `verb` on `provider`. Task cancellation reaches the provider's `is_cancelled`.
    func call<Response: Decodable>(
        _ verb: Verb,
        on provider: String,
        _ request: some Encodable,
        as: Response.Type = Response.self,
        timeout: Duration? = nil
    ) async throws(DispatchError) -> Response {
        guard let instance = instances[provider] else { throw .providerNotLoaded(provider: provider) }
        do {
            return try await instance.call(verb, request, as: Response.self, timeout: timeout)
        } catch {
            throw .provider(status: error.status, message: error.message, provider: provider, verb: verb, retryable: error.retryable)
        }
    }

    /// Releases every instance (runners end, in-process instances are destroyed; libraries stay mapped).
    func shutdown() async {
        for instance in instances.values { await instance.shutdown() }
    }
}
