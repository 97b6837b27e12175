import ProviderWire

/// The operator's configuration for one provider instance: the JSON object passed to `create`.
public struct ProviderConfiguration: Sendable {
    /// The whole configuration object.
    public let json: JSONValue

    public init(json: JSONValue) { self.json = json }

    /// Decodes the configuration into the provider's own `Decodable` type; a mismatch is INVALID_ARGUMENT.
    public func decode<T: Decodable>(_ type: T.Type, provider: String) throws(ProviderError) -> T {
        do {
            return try WireCoding.decode(type, from: WireCoding.encode(json))
        } catch {
            throw .invalidArgument("\(provider) configuration is invalid: \(DecodingErrorText.describe(error))")
        }
    }
}
