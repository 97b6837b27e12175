/// Why the loader refused a provider library. Each case's description is one line naming the file and the reason.
public enum ProviderLoadError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    case fileMissing(path: String)
    case notSharedObject(path: String, reason: String)
    case dlopenFailed(path: String, reason: String)
    case entryMissing(path: String)
    case negotiationFailed(path: String, status: Int32)
    case abiMismatch(path: String, provider: ClosedRange<UInt32>, host: ClosedRange<UInt32>)
    case entryReturnedNull(path: String, field: String)
    case malformedManifest(path: String, reason: String)
    case incompatibleTable(path: String, reason: String)
    case duplicateName(path: String, name: String, loadedFrom: String)
    /// Loading (constructors, negotiate) or `create` did not finish within its deadline.
    case timedOut(path: String, phase: String, timeout: String)
    /// The runner process that was loading it died or broke the protocol (process isolation).
    case runnerFailed(path: String, reason: String)

    /// The library the refusal is about.
    public var path: String {
        switch self {
        case .fileMissing(let path), .notSharedObject(let path, _), .dlopenFailed(let path, _), .entryMissing(let path),
            .negotiationFailed(let path, _), .abiMismatch(let path, _, _), .entryReturnedNull(let path, _),
            .malformedManifest(let path, _), .incompatibleTable(let path, _), .duplicateName(let path, _, _),
            .timedOut(let path, _, _), .runnerFailed(let path, _):
            path
        }
    }

    public var description: String {
        switch self {
        case .fileMissing(let path):
            "provider \(path): refused: file not found"
        case .notSharedObject(let path, let reason):
            "provider \(path): refused: not a shared object (\(reason))"
        case .dlopenFailed(let path, let reason):
            "provider \(path): refused: dlopen failed: \(reason)"
        case .entryMissing(let path):
            "provider \(path): refused: entry symbol molecule_provider_negotiate is missing (is this a Molecule provider?)"
        case .negotiationFailed(let path, let status):
            "provider \(path): refused: molecule_provider_negotiate returned status \(status)"
        case .abiMismatch(let path, let provider, let host):
            "provider \(path): refused: ABI range \(provider.lowerBound)...\(provider.upperBound) does not overlap the Host's \(host.lowerBound)...\(host.upperBound)"
        case .entryReturnedNull(let path, let field):
            "provider \(path): refused: negotiation succeeded but returned a NULL \(field)"
        case .malformedManifest(let path, let reason):
            "provider \(path): refused: malformed manifest: \(reason)"
        case .incompatibleTable(let path, let reason):
            "provider \(path): refused: function table is incompatible: \(reason)"
        case .duplicateName(let path, let name, let loadedFrom):
            "provider \(path): refused: a provider named \"\(name)\" is already loaded from \(loadedFrom)"
        case .timedOut(let path, let phase, let timeout):
            "provider \(path): refused: \(phase) did not finish within \(timeout)"
        case .runnerFailed(let path, let reason):
            "provider \(path): refused: its runner process \(reason)"
        }
    }
}
