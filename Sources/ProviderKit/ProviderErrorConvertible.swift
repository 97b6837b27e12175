import ProviderWire

/// A provider's own error type that knows the ABI error it stands for. Throw it from a verb as it is: the one mapping
/// (``ProviderErrorMapping``) turns it into its ``providerError`` at the ABI boundary, while code inside the provider
/// decides on its typed reason instead of matching message text.
public protocol ProviderErrorConvertible: Error {
    /// The status, message, retryability and native code the Host receives.
    var providerError: ProviderError { get }
}

extension ProviderError: ProviderErrorConvertible {
    public var providerError: ProviderError { self }
}
