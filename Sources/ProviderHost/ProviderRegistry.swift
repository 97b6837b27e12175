import Logging
import ProviderWire

/// The provider libraries one Host process has loaded, by manifest name.
///
/// Loading several at once never lets one bad library stop the others: each refusal is recorded (and logged as one
/// line naming the file and the reason) and the rest load.
public struct ProviderRegistry: Sendable {
    /// Loaded libraries by manifest name.
    public private(set) var libraries: [String: ProviderLibrary] = [:]
    /// Every refusal, in load order.
    public private(set) var refusals: [ProviderLoadError] = []

    public init() {}

    /// Loads `path`; records and returns the refusal instead of throwing.
    @discardableResult
    public mutating func load(
        path: String,
        logger: Logger = Logger(label: "molecule.providers"),
        eventSink: ProviderEventSink? = nil
    ) -> Result<ProviderLibrary, ProviderLoadError> {
        do {
            let library = try ProviderLibrary.load(path: path, logger: logger, eventSink: eventSink)
            if let existing = libraries[library.manifest.name] {
                if existing.path == library.path { return .success(existing) }
                throw ProviderLoadError.duplicateName(path: library.path, name: library.manifest.name, loadedFrom: existing.path)
            }
            libraries[library.manifest.name] = library
            logger.info(
                "provider loaded",
                metadata: [
                    "provider": "\(library.manifest.name)", "version": "\(library.manifest.version)", "path": "\(library.path)",
                    "abi": "\(library.abiVersion).\(library.abiMinor)", "verbs": "\(library.supportedVerbs.map(\.wireName).joined(separator: ","))",
                ]
            )
            return .success(library)
        } catch let error as ProviderLoadError {
            refusals.append(error)
            logger.error("\(error.description)")
            return .failure(error)
        } catch {
            fatalError("unreachable: ProviderLibrary.load throws only ProviderLoadError")
        }
    }

    /// The library named `name`, if loaded.
    public subscript(name: String) -> ProviderLibrary? { libraries[name] }
}
