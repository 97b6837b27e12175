/// The Host's configuration file (`molecule-host serve --config host.yaml`, YAML or JSON), decoded strictly: an
/// unknown key or a wrong type is a ``ConfigurationError`` naming the file, the key path and what was expected. A key
/// left out (or null) keeps the default of ``HostConfiguration``.
struct HostConfigurationFile: ConfigurationSection {
    enum Keys: String, CodingKey, CaseIterable {
        case listen
        case databaseURL = "database_url"
        case adminToken = "admin_token"
        case environment
        case platformURL = "platform_url"
        case stateDirectory = "state_dir"
        case templatesDirectory = "templates_dir"
        case defaultProvider = "default_provider"
        case allowedProviders = "allowed_providers"
        case heartbeatFlushMs = "heartbeat_flush_ms"
        case maxBodyBytes = "max_body_bytes"
        case maxUploadBytes = "max_upload_bytes"
        case maxRegistryBodyBytes = "max_registry_body_bytes"
        case maxConcurrentRequestsPerClient = "max_concurrent_requests_per_client"
        case enableTestTokens = "enable_test_tokens"
        case databasePoolSize = "database_pool_size"
        case restartStopAttempts = "restart_stop_attempts"
        case restartBackoffMs = "restart_backoff_ms"
        case maxProvisionAttempts = "max_provision_attempts"
        case sweepers
        case providers
    }

    var listen: ListenAddress?
    var databaseURL: String?
    var adminToken: String?
    var environment: HostConfiguration.Environment?
    var platformURL: String?
    var stateDirectory: String?
    var templatesDirectory: String?
    var defaultProvider: String?
    var allowedProviders: [String]?
    var heartbeatFlushMs: Int?
    var maxBodyBytes: Int?
    var maxUploadBytes: Int?
    var maxRegistryBodyBytes: Int?
    var maxConcurrentRequestsPerClient: Int?
    var enableTestTokens: Bool?
    var databasePoolSize: Int?
    var restartStopAttempts: Int?
    var restartBackoffMs: Int?
    var maxProvisionAttempts: Int?
    var sweepers: SweepersSection?
    var providers: [ProviderEntry]?

    init(from decoder: any Decoder) throws {
        let section = try decoder.section(Keys.self)
        listen = try section.optional(.listen)
        databaseURL = try section.optional(.databaseURL)
        adminToken = try section.optional(.adminToken)
        environment = try section.optional(.environment)
        platformURL = try section.optional(.platformURL)
        stateDirectory = try section.optional(.stateDirectory)
        templatesDirectory = try section.optional(.templatesDirectory)
        defaultProvider = try section.optional(.defaultProvider)
        allowedProviders = try section.optional(.allowedProviders)
        heartbeatFlushMs = try section.optional(.heartbeatFlushMs, atLeast: 1)
        maxBodyBytes = try section.optional(.maxBodyBytes, atLeast: 1)
        maxUploadBytes = try section.optional(.maxUploadBytes, atLeast: 1)
        maxRegistryBodyBytes = try section.optional(.maxRegistryBodyBytes, atLeast: 1024)
        maxConcurrentRequestsPerClient = try section.optional(.maxConcurrentRequestsPerClient, atLeast: 1)
        enableTestTokens = try section.optional(.enableTestTokens)
        databasePoolSize = try section.optional(.databasePoolSize, atLeast: 1)
        restartStopAttempts = try section.optional(.restartStopAttempts, atLeast: 1)
        restartBackoffMs = try section.optional(.restartBackoffMs, atLeast: 0)
        maxProvisionAttempts = try section.optional(.maxProvisionAttempts, atLeast: 1)
        sweepers = try section.optional(.sweepers)
        providers = try section.optional(.providers)
    }

    /// Decodes `text`, naming `file` in every error.
    static func decode(_ text: String, file: String) throws(ConfigurationError) -> HostConfigurationFile {
        try StrictDecodingContext.decode(HostConfigurationFile.self, from: text, file: file)
    }

    /// Sets what the file sets; the rest keeps its value.
    func apply(to configuration: inout HostConfiguration) {
        if let listen {
            configuration.host = listen.host
            configuration.port = listen.port
        }
        if let databaseURL { configuration.databaseURL = databaseURL }
        if let adminToken { configuration.adminToken = adminToken }
        if let environment { configuration.environment = environment }
        if let platformURL { configuration.platformURL = platformURL }
        if let stateDirectory { configuration.stateDirectory = stateDirectory }
        if let templatesDirectory { configuration.templatesDir = templatesDirectory }
        if let defaultProvider { configuration.defaultProvider = defaultProvider }
        if let allowedProviders { configuration.allowedProviders = allowedProviders }
        if let heartbeatFlushMs { configuration.heartbeatFlushMs = heartbeatFlushMs }
        if let maxBodyBytes { configuration.maxBodyBytes = maxBodyBytes }
        if let maxUploadBytes { configuration.maxUploadBytes = maxUploadBytes }
        if let maxRegistryBodyBytes { configuration.maxRegistryBodyBytes = maxRegistryBodyBytes }
        if let maxConcurrentRequestsPerClient { configuration.maxConcurrentRequestsPerClient = maxConcurrentRequestsPerClient }
        if let enableTestTokens { configuration.enableTestTokens = enableTestTokens }
        if let databasePoolSize { configuration.databasePoolSize = databasePoolSize }
        if let restartStopAttempts { configuration.restartStopAttempts = restartStopAttempts }
        if let restartBackoffMs { configuration.restartBackoffMs = restartBackoffMs }
        if let maxProvisionAttempts { configuration.maxProvisionAttempts = maxProvisionAttempts }
        sweepers?.apply(to: &configuration.sweepers)
        if let providers { configuration.providers = providers.map(\.spec) }
    }
}

/// `listen: HOST:PORT` (the host may be empty, a name, an IPv4 address or a bracketed IPv6 one).
struct ListenAddress: ConfigurationValue, Hashable {
    var host: String
    var port: Int

    static var expected: String { "a string HOST:PORT" }
    static var expectedPlural: String { "strings HOST:PORT" }

    static func decodeStrictly(from decoder: any Decoder) throws -> ListenAddress {
        let text = try String.decodeStrictly(from: decoder)
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ConfigurationError.invalidValue(
                file: decoder.configurationFile, path: decoder.configurationPath,
                reason: "must be HOST:PORT with a port 0-65535, e.g. 127.0.0.1:8080 (got \"\(text)\")")
        }
        return ListenAddress(host: String(text[..<colon]), port: port)
    }
}

extension HostConfiguration.Environment: ConfigurationChoice {}
