import ProviderWire

/// The one place that maps whatever a provider throws onto the ABI's taxonomy. ``ProviderExport`` applies it to every
/// verb and to `create`; ``DiagnoseRecorder`` to every stage.
///
/// - ``ProviderErrorConvertible`` (``ProviderError`` included): its ``ProviderErrorConvertible/providerError``.
/// - `DecodingError`: INVALID_ARGUMENT naming the malformed request (or the configuration, outside a verb).
/// - Anything else: INTERNAL naming the provider and the verb (an error the provider did not classify is its bug).
public enum ProviderErrorMapping {
    /// The ABI error for `error`, thrown by `verb` (`nil`: by `create`) of provider `provider`.
    public static func map(_ error: any Error, verb: Verb?, provider: String) -> ProviderError {
        if let convertible = error as? any ProviderErrorConvertible { return convertible.providerError }
        if error is DecodingError {
            let what = verb.map { "\($0) request" } ?? "\(provider) configuration"
            return .invalidArgument("malformed \(what): \(DecodingErrorText.describe(error))")
        }
        return .internal("\(provider) \(verb?.wireName ?? "create") failed: \(error)")
    }

    /// The message of `error` as the Host will see it.
    public static func message(of error: any Error) -> String {
        (error as? any ProviderErrorConvertible)?.providerError.message ?? "\(error)"
    }
}
