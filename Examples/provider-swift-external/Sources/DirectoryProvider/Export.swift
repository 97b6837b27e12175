import ProviderABI
import ProviderKit

/// The library's one exported symbol. `@c @implementation` makes the compiler check this signature against
/// `molecule_provider.h`; ProviderKit answers the negotiation with the manifest and function table derived from
/// ``DirectoryProvider`` and the capability protocols it adopts.
@c @implementation
public func molecule_provider_negotiate(
    _ offer: UnsafePointer<mp_host_offer>?,
    _ answer: UnsafeMutablePointer<mp_provider_answer>?
) -> Int32 {
    ProviderExport.negotiate(DirectoryProvider.self, offer: offer, answer: answer)
}
