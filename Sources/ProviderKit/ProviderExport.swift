import ProviderABI
import ProviderWire
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Exports a ``WorkspaceProvider`` through the C ABI. A provider module needs exactly this:
///
/// ```swift
/// @c @implementation
/// public func molecule_provider_negotiate(
///     _ offer: UnsafePointer<mp_host_offer>?, _ answer: UnsafeMutablePointer<mp_provider_answer>?
/// ) -> Int32 {
///     ProviderExport.negotiate(MyProvider.self, offer: offer, answer: answer)
/// }
/// ```
///
/// `@c @implementation` makes the compiler check the signature against `molecule_provider.h`. Every C entry point
/// below is a barrier: Swift errors become `mp_result` codes; nothing Swift-typed reaches the Host.
public enum ProviderExport {
    /// The ABI versions this ProviderKit speaks.
    public static let abiRange = ProviderManifest.ABIRange(min: 1, max: 1)
    /// The highest minor of ABI 1 this ProviderKit speaks (a Host offering less gets that minor's table).
    public static let abiMinor = MP_ABI_MINOR

    struct State: @unchecked Sendable {
        var type: (any WorkspaceProvider.Type)?
        var services: HostServices?
        /// Per negotiated minor: the manifest and table answered.
        var tables: [UInt32: Table] = [:]
    }

    /// A manifest and function table answered for one minor; both live for the lifetime of the process.
    struct Table: @unchecked Sendable {
        let manifest: UnsafeMutablePointer<CChar>
        let vtable: UnsafeMutablePointer<mp_vtable>
    }

    static let state = Mutex(State())

    /// Answers the Host's negotiation for provider type `type` (see `molecule_provider_negotiate`).
    public static func negotiate(
        _ type: any WorkspaceProvider.Type,
        offer: UnsafePointer<mp_host_offer>?,
        answer: UnsafeMutablePointer<mp_provider_answer>?
    ) -> Int32 {
        guard let offer, let answer else { return ProviderStatus.invalidArgument.rawValue }
        let size = answer.pointee.struct_size
        SizedStruct.write(answer, declaredSize: size, \.abi_min, abiRange.min)
        SizedStruct.write(answer, declaredSize: size, \.abi_max, abiRange.max)
        let host = ProviderManifest.ABIRange(min: offer.pointee.abi_min, max: offer.pointee.abi_max)
        guard host.overlaps(abiRange) else { return ProviderStatus.unsupported.rawValue }
        let chosen = min(host.max, abiRange.max)
        // A 1.0 Host's offer ends before `abi_minor`: it speaks minor 0, and gets the 1.0 table and manifest.
        let hostMinor = SizedStruct.read(offer, declaredSize: offer.pointee.struct_size, \.abi_minor) ?? 0
        let minor = min(hostMinor, abiMinor)

        let table = state.withLock { state -> Table in
            if let services = offer.pointee.services { state.services = HostServices(table: services) }
            if let made = state.tables[minor] { return made }
            state.type = type
            // Both live for the lifetime of the process: the Host never unloads a provider.
            let manifest = strdup(manifestJSON(for: type, minor: minor))!
            let vtable = UnsafeMutablePointer<mp_vtable>.allocate(capacity: 1)
            vtable.initialize(to: makeVTable(for: type, minor: minor))
            let made = Table(manifest: manifest, vtable: vtable)
            state.tables[minor] = made
            return made
        }
        let (manifest, vtable) = (table.manifest, table.vtable)
        SizedStruct.write(answer, declaredSize: size, \.abi_chosen, chosen)
        SizedStruct.write(answer, declaredSize: size, \.manifest_json, UnsafePointer(manifest))
        SizedStruct.write(answer, declaredSize: size, \.vtable, UnsafePointer(vtable))
        SizedStruct.write(answer, declaredSize: size, \.abi_minor, minor)
        return ProviderStatus.ok.rawValue
    }

    /// The size of an ABI 1.`minor` function table: the fixed fields and that minor's verb slots.
    public static func tableSize(minor: UInt32) -> Int {
        MemoryLayout<mp_vtable>.offset(of: \mp_vtable.verbs)! + Verb.verbs(upToMinor: minor).count * MemoryLayout<mp_verb_fn?>.stride
    }

    /// The verbs `type` implements, derived from the capability protocols it adopts.
    public static func claimedVerbs(of type: any WorkspaceProvider.Type, minor: UInt32 = abiMinor) -> [Verb] {
        var verbs: [Verb] = [.describe, .provision, .stop, .inspect, .listOwned]
        if type is any PausingProvider.Type { verbs += [.pause, .resume] }
        if type is any SnapshottingProvider.Type { verbs += [.snapshot, .restore] }
        if type is any FileServingProvider.Type { verbs += [.listFiles, .readFile, .writeFile, .deleteFile] }
        if type is any PluginHostingProvider.Type { verbs += [.installPlugin, .uninstallPlugin, .listPlugins] }
        if type is any LogServingProvider.Type { verbs += [.logs] }
        if type is any DiagnosingProvider.Type { verbs += [.diagnose] }
        if type is any StorageOwningProvider.Type { verbs += [.removeStorage] }
        if type is any ExecutingProvider.Type { verbs += [.exec] }
        if type is any SessionHostingProvider.Type { verbs += [.sessionOpen, .sessionWrite, .sessionRead, .sessionResize, .sessionClose] }
        return verbs.filter { $0.sinceMinor <= minor }.sorted { $0.rawValue < $1.rawValue }
    }

    /// The manifest `type` exports.
    public static func manifest(for type: any WorkspaceProvider.Type, minor: UInt32 = abiMinor) -> ProviderManifest {
        let claimed = claimedVerbs(of: type, minor: minor)
        var reasons: [String: String] = [:]
        for verb in Verb.verbs(upToMinor: minor) where !claimed.contains(verb) {
            reasons[verb.wireName] = type.unsupportedReasons[verb.wireName] ?? "not implemented by \(type.name)"
        }
        return ProviderManifest(
            name: type.name,
            version: type.version,
            summary: type.summary.isEmpty ? nil : type.summary,
            abi: ProviderManifest.ABIRange(min: abiRange.min, max: abiRange.max, minor: minor == 0 ? nil : minor),
            verbs: Dictionary(uniqueKeysWithValues: claimed.map { ($0.wireName, .init(contract: $0.contractVersion)) }),
            unsupported: reasons.isEmpty ? nil : reasons,
            features: type.features.isEmpty ? nil : type.features.map(\.rawValue).sorted()
        )
    }

    static func manifestJSON(for type: any WorkspaceProvider.Type, minor: UInt32) -> String {
        let bytes = (try? WireCoding.encode(manifest(for: type, minor: minor))) ?? []
        return String(decoding: bytes, as: UTF8.self)
    }

    static func makeVTable(for type: any WorkspaceProvider.Type, minor: UInt32) -> mp_vtable {
        var table = mp_vtable()
        table.struct_size = UInt32(tableSize(minor: minor))
        table.create = { config, err in ProviderExport.create(config, err) }
        table.destroy = { instance in
            guard let instance else { return }
            Unmanaged<InstanceBox>.fromOpaque(UnsafeRawPointer(instance)).release()
        }
        table.free_result = { result in ProviderExport.freeResult(result) }
        let claimed = Set(claimedVerbs(of: type, minor: minor))
        withUnsafeMutablePointer(to: &table.verbs) { tuple in
            tuple.withMemoryRebound(to: mp_verb_fn?.self, capacity: Int(MP_VERB_COUNT.rawValue)) { slots in
                for verb in Verb.allCases {
                    slots[Int(verb.rawValue)] = claimed.contains(verb) ? verbThunks[Int(verb.rawValue)] : nil
                }
            }
        }
        return table
    }

    /// One C thunk per slot, so a slot can never be confused with another verb.
    static let verbThunks: [mp_verb_fn] = [
        { invoke(.describe, $0, $1, $2, $3) },
        { invoke(.provision, $0, $1, $2, $3) },
        { invoke(.stop, $0, $1, $2, $3) },
        { invoke(.inspect, $0, $1, $2, $3) },
        { invoke(.pause, $0, $1, $2, $3) },
        { invoke(.resume, $0, $1, $2, $3) },
        { invoke(.snapshot, $0, $1, $2, $3) },
        { invoke(.restore, $0, $1, $2, $3) },
        { invoke(.listFiles, $0, $1, $2, $3) },
        { invoke(.readFile, $0, $1, $2, $3) },
        { invoke(.writeFile, $0, $1, $2, $3) },
        { invoke(.deleteFile, $0, $1, $2, $3) },
        { invoke(.installPlugin, $0, $1, $2, $3) },
        { invoke(.uninstallPlugin, $0, $1, $2, $3) },
        { invoke(.listPlugins, $0, $1, $2, $3) },
        { invoke(.logs, $0, $1, $2, $3) },
        { invoke(.listOwned, $0, $1, $2, $3) },
        { invoke(.diagnose, $0, $1, $2, $3) },
        { invoke(.removeStorage, $0, $1, $2, $3) },
        { invoke(.exec, $0, $1, $2, $3) },
        { invoke(.sessionOpen, $0, $1, $2, $3) },
        { invoke(.sessionWrite, $0, $1, $2, $3) },
        { invoke(.sessionRead, $0, $1, $2, $3) },
        { invoke(.sessionResize, $0, $1, $2, $3) },
        { invoke(.sessionClose, $0, $1, $2, $3) },
    ]

    static func create(_ config: mp_bytes, _ err: UnsafeMutablePointer<mp_result>?) -> OpaquePointer? {
        guard let type = state.withLock({ $0.type }) else {
            fill(err, error: .internal("create called before negotiation"))
            return nil
        }
        do {
            let bytes = UnsafeRawBufferPointer(start: config.ptr, count: config.ptr == nil ? 0 : config.len)
            let json = bytes.isEmpty ? JSONValue.object([:]) : try WireCoding.decode(JSONValue.self, from: bytes)
            guard case .object = json else { throw ProviderError.invalidArgument("\(type.name) configuration must be a JSON object") }
            let provider = try type.init(configuration: ProviderConfiguration(json: json))
            return OpaquePointer(Unmanaged.passRetained(InstanceBox(provider)).toOpaque())
        } catch {
            fill(err, error: providerError(from: error, verb: nil, providerName: type.name))
            return nil
        }
    }

    static func invoke(
        _ verb: Verb,
        _ instance: OpaquePointer?,
        _ call: UnsafePointer<mp_call>?,
        _ request: mp_bytes,
        _ out: UnsafeMutablePointer<mp_result>?
    ) {
        guard let out else { return }
        guard let instance else {
            fill(out, error: .invalidArgument("\(verb) called with a NULL instance"))
            return
        }
        let box = Unmanaged<InstanceBox>.fromOpaque(UnsafeRawPointer(instance)).takeUnretainedValue()
        let bytes = UnsafeRawBufferPointer(start: request.ptr, count: request.ptr == nil ? 0 : request.len)
        let context = CallContext(verb: verb, call: call)
        if context.isCancelled {
            fill(out, error: .deadlineExceeded("\(verb) was called after its deadline had passed; nothing was done"))
            return
        }
        do {
            let body = try box.handle(verb, request: bytes, context: context)
            fill(out, body: body)
        } catch {
            fill(out, error: providerError(from: error, verb: verb, providerName: type(of: box.provider).name))
        }
    }

    static func providerError(from error: any Error, verb: Verb?, providerName: String) -> ProviderError {
        ProviderErrorMapping.map(error, verb: verb, provider: providerName)
    }

    static func fill(_ out: UnsafeMutablePointer<mp_result>?, body: [UInt8]) {
        guard let out else { return }
        let size = out.pointee.struct_size
        SizedStruct.write(out, declaredSize: size, \.status, ProviderStatus.ok.rawValue)
        let buffer = malloc(max(body.count, 1))!.assumingMemoryBound(to: UInt8.self)
        body.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: body.count) }
        SizedStruct.write(out, declaredSize: size, \.body, buffer)
        SizedStruct.write(out, declaredSize: size, \.body_len, body.count)
    }

    static func fill(_ out: UnsafeMutablePointer<mp_result>?, error: ProviderError) {
        guard let out else { return }
        let size = out.pointee.struct_size
        SizedStruct.write(out, declaredSize: size, \.status, error.status.rawValue)
        SizedStruct.write(out, declaredSize: size, \.retryable, error.retryable ? 1 : 0)
        SizedStruct.write(out, declaredSize: size, \.native_code, error.nativeCode)
        SizedStruct.write(out, declaredSize: size, \.message, strdup(error.message))
    }

    static func freeResult(_ result: UnsafeMutablePointer<mp_result>?) {
        guard let result else { return }
        free(result.pointee.message)
        free(result.pointee.body)
        result.pointee.message = nil
        result.pointee.body = nil
        result.pointee.body_len = 0
    }
}

/// The Swift object behind an `mp_instance *`.
final class InstanceBox: Sendable {
    let provider: any WorkspaceProvider

    init(_ provider: any WorkspaceProvider) { self.provider = provider }

    func handle(_ verb: Verb, request: UnsafeRawBufferPointer, context: CallContext) throws -> [UInt8] {
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            if request.isEmpty { return try WireCoding.decode(type, from: Array("{}".utf8)) }
            return try WireCoding.decode(type, from: request)
        }
        func capability<P>(_ type: P.Type) throws -> P {
            guard let typed = provider as? P else { throw ProviderError.unsupported("\(verb) is not supported") }
            return typed
        }
        switch verb {
        case .describe: return try WireCoding.encode(provider.describe(context: context))
        case .provision: return try WireCoding.encode(provider.provision(decode(ProvisionRequest.self), context: context))
        case .stop: return try WireCoding.encode(provider.stop(decode(WorkspaceRef.self), context: context))
        case .inspect: return try WireCoding.encode(provider.inspect(decode(WorkspaceRef.self), context: context))
        case .listOwned: return try WireCoding.encode(provider.listOwned(decode(ListOwnedRequest.self), context: context))
        case .pause:
            return try WireCoding.encode(capability((any PausingProvider).self).pause(decode(WorkspaceRef.self), context: context))
        case .resume:
            return try WireCoding.encode(capability((any PausingProvider).self).resume(decode(WorkspaceRef.self), context: context))
        case .snapshot:
            return try WireCoding.encode(
                capability((any SnapshottingProvider).self).snapshot(decode(WorkspaceRef.self), context: context)
            )
        case .restore:
            return try WireCoding.encode(
                capability((any SnapshottingProvider).self).restore(decode(ProvisionRequest.self), context: context)
            )
        case .listFiles:
            return try WireCoding.encode(
                capability((any FileServingProvider).self).listFiles(decode(ListFilesRequest.self), context: context)
            )
        case .readFile:
            return try WireCoding.encode(
                capability((any FileServingProvider).self).readFile(decode(FilePathRequest.self), context: context)
            )
        case .writeFile:
            return try WireCoding.encode(
                capability((any FileServingProvider).self).writeFile(decode(WriteFileRequest.self), context: context)
            )
        case .deleteFile:
            return try WireCoding.encode(
                capability((any FileServingProvider).self).deleteFile(decode(FilePathRequest.self), context: context)
            )
        case .installPlugin:
            return try WireCoding.encode(
                capability((any PluginHostingProvider).self).installPlugin(decode(InstallPluginRequest.self), context: context)
            )
        case .uninstallPlugin:
            return try WireCoding.encode(
                capability((any PluginHostingProvider).self).uninstallPlugin(decode(PluginRef.self), context: context)
            )
        case .listPlugins:
            return try WireCoding.encode(
                capability((any PluginHostingProvider).self).listPlugins(decode(WorkspaceRef.self), context: context)
            )
        case .logs:
            return try WireCoding.encode(capability((any LogServingProvider).self).logs(decode(LogsRequest.self), context: context))
        case .diagnose:
            return try WireCoding.encode(
                capability((any DiagnosingProvider).self).diagnose(decode(WorkspaceRef.self), context: context)
            )
        case .removeStorage:
            return try WireCoding.encode(
                capability((any StorageOwningProvider).self).removeStorage(decode(WorkspaceRef.self), context: context)
            )
        case .exec:
            return try WireCoding.encode(capability((any ExecutingProvider).self).exec(decode(ExecRequest.self), context: context))
        case .sessionOpen:
            return try WireCoding.encode(
                capability((any SessionHostingProvider).self).sessionOpen(decode(SessionOpenRequest.self), context: context))
        case .sessionWrite:
            return try WireCoding.encode(
                capability((any SessionHostingProvider).self).sessionWrite(decode(SessionWriteRequest.self), context: context))
        case .sessionRead:
            return try WireCoding.encode(
                capability((any SessionHostingProvider).self).sessionRead(decode(SessionReadRequest.self), context: context))
        case .sessionResize:
            return try WireCoding.encode(
                capability((any SessionHostingProvider).self).sessionResize(decode(SessionResizeRequest.self), context: context))
        case .sessionClose:
            return try WireCoding.encode(capability((any SessionHostingProvider).self).sessionClose(decode(SessionRef.self), context: context))
        }
    }
}
