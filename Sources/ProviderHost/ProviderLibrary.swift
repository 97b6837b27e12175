import Crypto
import Foundation
import Logging
import ProviderABI
import ProviderWire

/// A provider shared object, loaded and negotiated. Never unloaded (`RTLD_NODELETE`, no `dlclose`).
///
/// Loading validates everything the Host relies on before any verb runs: the ELF type (and the embedded manifest
/// note, before `dlopen`), the entry symbol, the negotiated ABI, the manifest, the function table's size and the
/// match between claimed verbs and non-NULL slots.
public final class ProviderLibrary: @unchecked Sendable {
    /// The ABI versions this Host speaks.
    public static let hostABIRange: ClosedRange<UInt32> = 1...MP_ABI_VERSION
    /// The highest minor of `MP_ABI_VERSION` this Host speaks.
    public static let hostABIMinor: UInt32 = MP_ABI_MINOR

    /// The path it was loaded from.
    public let path: String
    /// sha256 of the file, hex (provenance for contract results). Computed on demand: hashing is not part of loading.
    public var sha256: String { Self.fileSHA256(path) }
    /// The provider's manifest.
    public let manifest: ProviderManifest
    /// The manifest text as the provider returned it.
    public let manifestJSON: String
    /// The negotiated ABI version.
    public let abiVersion: UInt32
    /// The negotiated minor of ``abiVersion``: the table has slots for ``Verb/verbs(upToMinor:)`` only.
    public let abiMinor: UInt32
    /// Whether the manifest was also embedded as an ELF note (readable before loading).
    public let hasManifestNote: Bool
    /// Wall time of validate + dlopen + negotiate, nanoseconds.
    public let loadNanoseconds: UInt64
    /// The function table, copied into Host memory up to the size this Host knows.
    let vtable: mp_vtable
    let services: HostServicesBridge
    let logger: Logger

    /// Loads and validates the provider at `path`, giving its library constructors and `negotiate` at most
    /// `timeout`: a provider that blocks there is refused and never blocks the caller longer.
    ///
    /// In this process a stuck `dlopen` cannot be undone (its thread stays blocked, holding the dynamic loader's
    /// lock): that is one reason the Host loads untrusted providers in a runner process, which it can kill.
    public static func load(
        path: String,
        logger: Logger = Logger(label: "molecule.providers"),
        eventSink: ProviderEventSink? = nil,
        logSink: ProviderLogSink? = nil,
        timeout: Duration = .seconds(10),
        hostMinor: UInt32 = hostABIMinor
    ) throws(ProviderLoadError) -> ProviderLibrary {
        let outcome = BoundedWait.run(timeout: timeout, label: "molecule-load") { () -> Result<ProviderLibrary, ProviderLoadError> in
            do throws(ProviderLoadError) {
                return .success(try loadNow(path: path, logger: logger, eventSink: eventSink, logSink: logSink, hostMinor: hostMinor))
            } catch { return .failure(error) }
        }
        guard let outcome else { throw .timedOut(path: path, phase: "loading (library constructors and negotiate)", timeout: "\(timeout)") }
        return try outcome.get()
    }

    /// `hostMinor` below this Host's own plays an older Host (a 1.0 Host's offer, answer and table end before the
    /// 1.1 fields): how the tests prove that a newer provider is downgraded or refused cleanly by an older Host.
    private static func loadNow(
        path: String, logger: Logger, eventSink: ProviderEventSink?, logSink: ProviderLogSink?, hostMinor: UInt32
    ) throws(ProviderLoadError) -> ProviderLibrary {
        let started = MonotonicClock.now()
        let path = URL(fileURLWithPath: path).standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: path) else { throw .fileMissing(path: path) }

        // 1. Before dlopen: the ELF header and, if present, the manifest note.
        let note: ELFManifestNote
        do { note = try ELFManifestNote(path: path) } catch { throw .notSharedObject(path: path, reason: error.description) }
        if let json = note.manifestJSON {
            let manifest = try decodeManifest(json, path: path)
            let range = manifest.abi.min...manifest.abi.max
            guard range.overlaps(hostABIRange) else { throw .abiMismatch(path: path, provider: range, host: hostABIRange) }
        }

        // 2. dlopen, entry symbol, negotiation.
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            throw .dlopenFailed(path: path, reason: dlerror().map { String(cString: $0) } ?? "unknown error")
        }
        guard let symbol = dlsym(handle, MP_ENTRY_SYMBOL) else { throw .entryMissing(path: path) }
        let negotiate = unsafeBitCast(symbol, to: mp_negotiate_fn.self)
        let sink =
            eventSink ?? { event in
                let text = (try? WireCoding.encode(event.payload)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
                logger.debug("provider event", metadata: ["provider": "\(event.provider)", "event": "\(text)"])
            }
        let services = HostServicesBridge.make(label: URL(fileURLWithPath: path).lastPathComponent, logger: logger, sink: sink, logSink: logSink)
        let older = hostMinor < hostABIMinor
        var offer = mp_host_offer()
        offer.struct_size = UInt32(older ? MemoryLayout<mp_host_offer>.offset(of: \.abi_minor)! : MemoryLayout<mp_host_offer>.size)
        offer.abi_min = hostABIRange.lowerBound
        offer.abi_max = hostABIRange.upperBound
        offer.abi_minor = hostMinor
        offer.services = UnsafePointer(services.table)
        var answer = mp_provider_answer()
        answer.struct_size = UInt32(older ? MemoryLayout<mp_provider_answer>.offset(of: \.abi_minor)! : MemoryLayout<mp_provider_answer>.size)
        let status = negotiate(&offer, &answer)
        // Only what lies within the answer's size counts (a provider writing past it is not believed).
        let minor = older ? 0 : answer.abi_minor
        guard minor <= hostMinor else {
            throw .incompatibleTable(path: path, reason: "chose ABI minor 1.\(minor), above the 1.\(hostMinor) this Host offered")
        }
        let providerRange = answer.abi_min...max(answer.abi_min, answer.abi_max)
        if status == ProviderStatus.unsupported.rawValue || !providerRange.overlaps(hostABIRange) {
            throw .abiMismatch(path: path, provider: providerRange, host: hostABIRange)
        }
        guard status == ProviderStatus.ok.rawValue else { throw .negotiationFailed(path: path, status: status) }
        guard hostABIRange.contains(answer.abi_chosen), providerRange.contains(answer.abi_chosen) else {
            throw .incompatibleTable(path: path, reason: "chose ABI \(answer.abi_chosen), outside both ranges")
        }
        guard let manifestPointer = answer.manifest_json else { throw .entryReturnedNull(path: path, field: "manifest") }
        guard let tablePointer = answer.vtable else { throw .entryReturnedNull(path: path, field: "function table") }

        // 3. Manifest and table.
        let manifestLength = strnlen(manifestPointer, ProviderBounds.maxManifestBytes + 1)
        guard manifestLength <= ProviderBounds.maxManifestBytes else {
            throw .malformedManifest(path: path, reason: "longer than the \(ProviderBounds.maxManifestBytes)-byte limit")
        }
        let manifestJSON = String(decoding: UnsafeRawBufferPointer(start: manifestPointer, count: manifestLength), as: UTF8.self)
        let manifest = try decodeManifest(manifestJSON, path: path)
        // The note describes the provider's newest table; a downgraded answer must match it as that minor reads it.
        if let noteJSON = note.manifestJSON,
            (try? decodeManifest(noteJSON, path: path))?.limited(toMinor: minor) != manifest.limited(toMinor: minor)
        {
            throw .malformedManifest(path: path, reason: "the ELF note differs from the manifest returned by negotiation")
        }
        guard manifest.abi.min == answer.abi_min, manifest.abi.max == answer.abi_max else {
            throw .malformedManifest(path: path, reason: "manifest ABI range differs from the negotiated range")
        }
        guard (manifest.abi.minor ?? 0) == minor else {
            throw .malformedManifest(
                path: path, reason: "manifest describes ABI 1.\(manifest.abi.minor ?? 0) but negotiation answered minor 1.\(minor)")
        }
        let vtable = try copyTable(tablePointer, path: path, minor: minor)
        try checkClaims(manifest, vtable, path: path, minor: minor)

        let library = ProviderLibrary(
            path: path, manifest: manifest, manifestJSON: manifestJSON, abiVersion: answer.abi_chosen, abiMinor: minor,
            hasManifestNote: note.manifestJSON != nil, loadNanoseconds: MonotonicClock.now() - started, vtable: vtable,
            services: services, logger: logger
        )
        return library
    }

    private init(
        path: String, manifest: ProviderManifest, manifestJSON: String, abiVersion: UInt32, abiMinor: UInt32, hasManifestNote: Bool,
        loadNanoseconds: UInt64, vtable: mp_vtable, services: HostServicesBridge, logger: Logger
    ) {
        self.path = path
        self.manifest = manifest
        self.manifestJSON = manifestJSON
        self.abiVersion = abiVersion
        self.abiMinor = abiMinor
        self.hasManifestNote = hasManifestNote
        self.loadNanoseconds = loadNanoseconds
        self.vtable = vtable
        self.services = services
        self.logger = logger
    }

    /// The verbs whose slot is non-NULL (equal to the manifest's claims, checked at load).
    public var supportedVerbs: [Verb] { Verb.allCases.filter { slot($0) != nil } }

    /// What the Host knows of this library, as a value (the same whether it is loaded here or in a runner).
    public var identity: ProviderIdentity {
        ProviderIdentity(
            path: path, manifest: manifest, manifestJSON: manifestJSON, abiVersion: abiVersion, abiMinor: abiMinor,
            hasManifestNote: hasManifestNote,
            loadNanoseconds: loadNanoseconds, supportedVerbs: supportedVerbs
        )
    }

    func slot(_ verb: Verb) -> mp_verb_fn? {
        // Never a slot the negotiated minor does not have (copyTable zeroed them; this says so again).
        guard verb.sinceMinor <= abiMinor else { return nil }
        return withUnsafeBytes(of: vtable.verbs) { $0.bindMemory(to: mp_verb_fn?.self)[Int(verb.rawValue)] }
    }

    // MARK: Validation

    static func decodeManifest(_ json: String, path: String) throws(ProviderLoadError) -> ProviderManifest {
        let manifest: ProviderManifest
        do {
            manifest = try WireCoding.decode(ProviderManifest.self, from: Array(json.utf8))
        } catch {
            throw .malformedManifest(path: path, reason: DecodingErrorText.describe(error))
        }
        if let problem = manifest.validationProblem() { throw .malformedManifest(path: path, reason: problem) }
        return manifest
    }

    /// Copies the provider's table, accepting a larger (newer) one only if the bytes beyond the negotiated minor's
    /// table are zero: a non-NULL slot there is a verb the provider did not negotiate, which this Host refuses.
    static func copyTable(_ pointer: UnsafePointer<mp_vtable>, path: String, minor: UInt32) throws(ProviderLoadError) -> mp_vtable {
        let declared = Int(pointer.pointee.struct_size)
        let slots = MemoryLayout<mp_vtable>.offset(of: \mp_vtable.verbs)!
        let known = slots + Verb.verbs(upToMinor: minor).count * MemoryLayout<mp_verb_fn?>.stride
        let minimum = MemoryLayout<mp_vtable>.offset(of: \mp_vtable.verbs)!
        guard declared >= minimum else {
            throw .incompatibleTable(path: path, reason: "struct_size \(declared) is smaller than the \(minimum)-byte minimum")
        }
        // Checked before a byte past the known table is read: the size is only a number the provider wrote.
        guard declared <= ProviderBounds.maxTableBytes else {
            throw .incompatibleTable(
                path: path, reason: "struct_size \(declared) exceeds the \(ProviderBounds.maxTableBytes)-byte bound of any ABI 1.x table; not read"
            )
        }
        if declared > known {
            let extra = UnsafeRawBufferPointer(start: UnsafeRawPointer(pointer) + known, count: declared - known)
            if let index = extra.firstIndex(where: { $0 != 0 }) {
                throw .incompatibleTable(
                    path: path,
                    reason: "struct_size \(declared) exceeds the \(known) bytes of an ABI 1.\(minor) table and byte \(known + index) is "
                        + "non-zero (a verb of a later minor than the 1.\(minor) negotiated, which this Host will not call); answer "
                        + "the table of the negotiated minor, or upgrade the Host"
                )
            }
        }
        var table = mp_vtable()
        withUnsafeMutableBytes(of: &table) { destination in
            destination.copyMemory(from: UnsafeRawBufferPointer(start: UnsafeRawPointer(pointer), count: min(declared, known)))
        }
        table.struct_size = UInt32(min(declared, known))
        guard table.create != nil, table.free_result != nil else {
            throw .incompatibleTable(path: path, reason: "the create and free_result slots are required")
        }
        return table
    }

    static func checkClaims(_ manifest: ProviderManifest, _ table: mp_vtable, path: String, minor: UInt32) throws(ProviderLoadError) {
        let slots = withUnsafeBytes(of: table.verbs) { Array($0.bindMemory(to: mp_verb_fn?.self)) }
        for verb in Verb.allCases where verb.sinceMinor > minor && manifest.verbs[verb.wireName] != nil {
            throw .malformedManifest(path: path, reason: "claims verb \(verb) of ABI 1.\(verb.sinceMinor) but negotiated 1.\(minor)")
        }
        for verb in Verb.verbs(upToMinor: minor) {
            let claimed = manifest.verbs[verb.wireName] != nil
            let present = slots[Int(verb.rawValue)] != nil
            if claimed && !present { throw .malformedManifest(path: path, reason: "claims verb \(verb) but its slot is NULL") }
            if present && !claimed { throw .malformedManifest(path: path, reason: "implements verb \(verb) without claiming it") }
        }
        let known = Set(Verb.allCases.map(\.wireName))
        if let unknown = manifest.verbs.keys.sorted().first(where: { !known.contains($0) }) {
            throw .malformedManifest(path: path, reason: "claims verb \"\(unknown)\", unknown to ABI \(MP_ABI_VERSION).\(MP_ABI_MINOR)")
        }
    }

    static func fileSHA256(_ path: String) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
