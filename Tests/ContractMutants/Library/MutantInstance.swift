import ContractMutantCatalogue
import Foundation
import ProviderABI
import ProviderWire

/// One instance of the mutant: the inner Process provider's instance and the mutation it was created with.
///
/// Every call goes to the inner provider; its result is copied out (and released through the inner `free_result`)
/// into an ``InnerResult``, which the mutation may change before it is written into the Host's `mp_result` — always
/// allocated here, so this library's `free_result` releases every result it answered.
final class MutantInstance: @unchecked Sendable {
    let inner: OpaquePointer
    let mutation: Mutation
    /// The configured `state_dir` (where the Process provider keeps `workspaces/<id>/configs`).
    let stateDir: String

    init(inner: OpaquePointer, mutation: Mutation, stateDir: String) {
        self.inner = inner
        self.mutation = mutation
        self.stateDir = stateDir
    }

    /// A verb's answer, as Swift values.
    struct InnerResult {
        var status: ProviderStatus
        var retryable = false
        var nativeCode: Int32 = 0
        var message: String?
        var body: [UInt8] = []

        static func ok(_ json: JSONValue) -> InnerResult { InnerResult(status: .ok, body: (try? WireCoding.encode(json)) ?? Array("{}".utf8)) }
        static func error(_ status: ProviderStatus, _ message: String) -> InnerResult { InnerResult(status: status, message: message) }

        var json: JSONValue? {
            guard status == .ok else { return nil }
            return try? WireCoding.decode(JSONValue.self, from: body.isEmpty ? Array("{}".utf8) : body)
        }
    }

    // MARK: C entry points

    static func create(_ config: mp_bytes, _ err: UnsafeMutablePointer<mp_result>?) -> OpaquePointer? {
        let bytes = UnsafeRawBufferPointer(start: config.ptr, count: config.ptr == nil ? 0 : config.len)
        let parsed = bytes.isEmpty ? JSONValue.object([:]) : try? WireCoding.decode(JSONValue.self, from: bytes)
        guard case .object(var object)? = parsed else {
            write(.error(.invalidArgument, "the mutant's configuration must be a JSON object"), into: err)
            return nil
        }
        let name = object.removeValue(forKey: "mutation")?.stringValue ?? Mutation.none.rawValue
        guard let mutation = Mutation(rawValue: name) else {
            write(
                .error(.invalidArgument, "unknown mutation \"\(name)\"; known: \(Mutation.allCases.map(\.rawValue).joined(separator: ", "))"),
                into: err)
            return nil
        }
        let innerConfig = (try? WireCoding.encode(JSONValue.object(object))) ?? Array("{}".utf8)
        var innerError = mp_result()
        innerError.struct_size = UInt32(MemoryLayout<mp_result>.size)
        let created = innerConfig.withUnsafeBufferPointer { buffer in
            MutantExport.inner.pointee.create(mp_bytes(ptr: buffer.baseAddress, len: buffer.count), &innerError)
        }
        guard let created else {
            write(copy(&innerError), into: err)
            return nil
        }
        let instance = MutantInstance(inner: created, mutation: mutation, stateDir: object["state_dir"]?.stringValue ?? "")
        return OpaquePointer(Unmanaged.passRetained(instance).toOpaque())
    }

    static func destroy(_ instance: OpaquePointer?) {
        guard let instance else { return }
        let box = Unmanaged<MutantInstance>.fromOpaque(UnsafeRawPointer(instance)).takeRetainedValue()
        MutantExport.inner.pointee.destroy(box.inner)
    }

    static func freeResult(_ result: UnsafeMutablePointer<mp_result>?) {
        guard let result else { return }
        free(result.pointee.message)
        free(result.pointee.body)
        result.pointee.message = nil
        result.pointee.body = nil
        result.pointee.body_len = 0
    }

    static func call(
        _ slot: UInt32, _ instance: OpaquePointer?, _ call: UnsafePointer<mp_call>?, _ request: mp_bytes, _ out: UnsafeMutablePointer<mp_result>?
    ) {
        guard let instance, let call, let verb = Verb(rawValue: slot) else { return }
        let box = Unmanaged<MutantInstance>.fromOpaque(UnsafeRawPointer(instance)).takeUnretainedValue()
        let bytes = Array(UnsafeRawBufferPointer(start: request.ptr, count: request.ptr == nil ? 0 : request.len))
        let result = box.mutated(verb, request: bytes, call: call)
        write(result, into: out)
    }

    // MARK: Forwarding

    /// Calls the inner provider's `verb` with `request` (JSON bytes) on the Host's call context.
    func forward(_ verb: Verb, _ request: [UInt8], call: UnsafePointer<mp_call>) -> InnerResult {
        guard let slot = MutantExport.innerSlot(verb) else { return .error(.unsupported, "\(verb) is not implemented") }
        var out = mp_result()
        out.struct_size = UInt32(MemoryLayout<mp_result>.size)
        request.withUnsafeBufferPointer { buffer in slot(inner, call, mp_bytes(ptr: buffer.baseAddress, len: buffer.count), &out) }
        return Self.copy(&out)
    }

    func forward(_ verb: Verb, _ request: JSONValue, call: UnsafePointer<mp_call>) -> InnerResult {
        forward(verb, (try? WireCoding.encode(request)) ?? [], call: call)
    }

    /// Whether the Host has abandoned `call` (its deadline passed, or the caller gave up).
    static func isCancelled(_ call: UnsafePointer<mp_call>) -> Bool {
        guard let services = MutantExport.services, let isCancelled = services.pointee.is_cancelled else { return false }
        return isCancelled(services.pointee.host_ctx, call) != 0
    }

    /// Copies a result the inner provider filled, then releases it through the inner `free_result`.
    static func copy(_ result: inout mp_result) -> InnerResult {
        var copied = InnerResult(status: ProviderStatus(rawValue: result.status) ?? .internal)
        copied.retryable = result.retryable != 0
        copied.nativeCode = result.native_code
        copied.message = result.message.map { String(cString: $0) }
        if let body = result.body { copied.body = Array(UnsafeBufferPointer(start: body, count: result.body_len)) }
        MutantExport.inner.pointee.free_result(&result)
        return copied
    }

    /// Writes `result` into the Host's `mp_result`, allocating message and body here.
    static func write(_ result: InnerResult, into out: UnsafeMutablePointer<mp_result>?) {
        guard let out else { return }
        out.pointee.status = result.status.rawValue
        out.pointee.retryable = result.retryable ? 1 : 0
        out.pointee.native_code = result.nativeCode
        out.pointee.message = result.message.map { strdup($0) } ?? nil
        if result.status == .ok {
            let buffer = malloc(max(result.body.count, 1))!.assumingMemoryBound(to: UInt8.self)
            result.body.withUnsafeBufferPointer { if let base = $0.baseAddress { buffer.update(from: base, count: result.body.count) } }
            out.pointee.body = buffer
            out.pointee.body_len = result.body.count
        }
    }
}
