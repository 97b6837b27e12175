import CProcessSupport
import ProviderABI
import ProviderWire
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The mutant library's one exported symbol: it loads the real Process provider (`libProviderProcess.so`, beside this
/// library), negotiates with it on the Host's behalf, and answers the Host with the inner manifest and a table of
/// its own, whose thunks forward every call to the inner provider through ``MutantInstance``.
@c @implementation
public func molecule_provider_negotiate(
    _ offer: UnsafePointer<mp_host_offer>?, _ answer: UnsafeMutablePointer<mp_provider_answer>?
) -> Int32 {
    MutantExport.negotiate(offer: offer, answer: answer)
}

/// The inner provider and the table this library answers with (both live as long as the process).
enum MutantExport {
    struct Loaded: @unchecked Sendable {
        var inner: UnsafePointer<mp_vtable>
        var services: UnsafePointer<mp_host_services>?
        var table: UnsafeMutablePointer<mp_vtable>
    }

    static let loaded = Mutex<Loaded?>(nil)

    static var inner: UnsafePointer<mp_vtable> { loaded.withLock { $0!.inner } }
    static var services: UnsafePointer<mp_host_services>? { loaded.withLock { $0?.services } }

    static func negotiate(offer: UnsafePointer<mp_host_offer>?, answer: UnsafeMutablePointer<mp_provider_answer>?) -> Int32 {
        guard let offer, let answer else { return ProviderStatus.invalidArgument.rawValue }
        guard let handle = dlopen(innerPath(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE),
            let symbol = dlsym(handle, "molecule_provider_negotiate")
        else { return ProviderStatus.internal.rawValue }
        let negotiateInner = unsafeBitCast(symbol, to: mp_negotiate_fn.self)
        let status = negotiateInner(offer, answer)
        guard status == ProviderStatus.ok.rawValue, let innerTable = answer.pointee.vtable else { return status }
        let services = offer.pointee.services
        let table = loaded.withLock { loaded -> Loaded in
            if let existing = loaded { return existing }
            let table = UnsafeMutablePointer<mp_vtable>.allocate(capacity: 1)
            table.initialize(to: makeTable(over: innerTable.pointee))
            let made = Loaded(inner: innerTable, services: services, table: table)
            loaded = made
            return made
        }.table
        answer.pointee.vtable = UnsafePointer(table)
        return status
    }

    /// `libProviderProcess.so` in the directory this library was loaded from.
    static func innerPath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let anchor = unsafeBitCast(imageAnchor, to: UnsafeRawPointer.self)
        guard molecule_image_path(anchor, &buffer, buffer.count) == 0 else { return "libProviderProcess.so" }
        let path = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        return directory + "/libProviderProcess.so"
    }

    /// A function of this library, whose address names the image it was loaded from.
    static let imageAnchor: @convention(c) () -> Void = {}

    /// The inner table with every non-NULL verb slot replaced by a forwarding thunk (NULL stays NULL: same claims).
    static func makeTable(over inner: mp_vtable) -> mp_vtable {
        var table = mp_vtable()
        // The inner table's size: the wrapper speaks the minor the inner provider negotiated.
        table.struct_size = inner.struct_size
        table.create = { config, err in MutantInstance.create(config, err) }
        table.destroy = { instance in MutantInstance.destroy(instance) }
        table.free_result = { result in MutantInstance.freeResult(result) }
        var innerSlots = inner.verbs
        let present = withUnsafeBytes(of: &innerSlots) { raw in
            raw.bindMemory(to: mp_verb_fn?.self).map { $0 != nil }
        }
        withUnsafeMutablePointer(to: &table.verbs) { tuple in
            tuple.withMemoryRebound(to: mp_verb_fn?.self, capacity: Int(MP_VERB_COUNT.rawValue)) { slots in
                for index in 0..<Int(MP_VERB_COUNT.rawValue) { slots[index] = present[index] ? thunks[index] : nil }
            }
        }
        return table
    }

    /// The inner provider's slot for `verb`.
    static func innerSlot(_ verb: Verb) -> mp_verb_fn? {
        var slots = inner.pointee.verbs
        return withUnsafeBytes(of: &slots) { $0.bindMemory(to: mp_verb_fn?.self)[Int(verb.rawValue)] }
    }

    /// One thunk per slot (a C function pointer cannot capture which verb it is).
    static let thunks: [mp_verb_fn] = [
        { MutantInstance.call(0, $0, $1, $2, $3) }, { MutantInstance.call(1, $0, $1, $2, $3) },
        { MutantInstance.call(2, $0, $1, $2, $3) }, { MutantInstance.call(3, $0, $1, $2, $3) },
        { MutantInstance.call(4, $0, $1, $2, $3) }, { MutantInstance.call(5, $0, $1, $2, $3) },
        { MutantInstance.call(6, $0, $1, $2, $3) }, { MutantInstance.call(7, $0, $1, $2, $3) },
        { MutantInstance.call(8, $0, $1, $2, $3) }, { MutantInstance.call(9, $0, $1, $2, $3) },
        { MutantInstance.call(10, $0, $1, $2, $3) }, { MutantInstance.call(11, $0, $1, $2, $3) },
        { MutantInstance.call(12, $0, $1, $2, $3) }, { MutantInstance.call(13, $0, $1, $2, $3) },
        { MutantInstance.call(14, $0, $1, $2, $3) }, { MutantInstance.call(15, $0, $1, $2, $3) },
        { MutantInstance.call(16, $0, $1, $2, $3) }, { MutantInstance.call(17, $0, $1, $2, $3) },
        { MutantInstance.call(18, $0, $1, $2, $3) }, { MutantInstance.call(19, $0, $1, $2, $3) },
        { MutantInstance.call(20, $0, $1, $2, $3) }, { MutantInstance.call(21, $0, $1, $2, $3) },
        { MutantInstance.call(22, $0, $1, $2, $3) }, { MutantInstance.call(23, $0, $1, $2, $3) },
        { MutantInstance.call(24, $0, $1, $2, $3) },
    ]
}
