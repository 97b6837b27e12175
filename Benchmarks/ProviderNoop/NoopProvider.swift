import ProviderABI
import ProviderKit
import ProviderWire

/// A provider whose verbs do nothing but decode their request and encode a fixed answer: the benchmark's probe for
/// the cost of the ABI itself (`molecule-bench`). Not for production use.
final class NoopProvider: WorkspaceProvider {
    static let name = "noop"
    static let version = "1.0.0"
    static let summary = "Benchmark probe: verbs that do nothing"

    init(configuration: ProviderConfiguration) throws {}

    func describe(context: CallContext) throws -> DescribeResponse { DescribeResponse(name: Self.name, version: Self.version) }

    func provision(_ request: ProvisionRequest, context: CallContext) throws -> ProvisionResponse {
        ProvisionResponse(instanceRef: request.workspaceId, state: .running)
    }

    func stop(_ request: WorkspaceRef, context: CallContext) throws -> StopResponse { StopResponse(stopped: false) }

    func inspect(_ request: WorkspaceRef, context: CallContext) throws -> InspectResponse { InspectResponse(state: .absent) }

    func listOwned(_ request: ListOwnedRequest, context: CallContext) throws -> ListOwnedResponse { ListOwnedResponse(resources: []) }
}

@c @implementation
public func molecule_provider_negotiate(
    _ offer: UnsafePointer<mp_host_offer>?,
    _ answer: UnsafeMutablePointer<mp_provider_answer>?
) -> Int32 {
    ProviderExport.negotiate(NoopProvider.self, offer: offer, answer: answer)
}
