import Logging
import ProviderABI
import ProviderWire

/// An event a provider emitted through `mp_host_services.emit_event`.
public struct ProviderEvent: Sendable, Hashable {
    /// The provider's manifest name (or its path, before the manifest is known).
    public var provider: String
    /// The event object as the provider sent it.
    public var payload: JSONValue
}

/// Receives provider events; the Host's event log installs one, the default only logs them.
public typealias ProviderEventSink = @Sendable (ProviderEvent) -> Void

/// The C `mp_host_services` table handed to one provider library, and the Swift context behind its `host_ctx`.
/// Allocated once per library and never freed: providers may keep the pointer for the life of the process.
final class HostServicesBridge: Sendable {
    let logger: Logger
    let label: String
    let sink: ProviderEventSink
    /// Stable for the life of the process (intentionally leaked with the bridge).
    nonisolated(unsafe) private(set) var table: UnsafeMutablePointer<mp_host_services>!

    static func make(label: String, logger: Logger, sink: @escaping ProviderEventSink) -> HostServicesBridge {
        let bridge = HostServicesBridge(label: label, logger: logger, sink: sink)
        let table = UnsafeMutablePointer<mp_host_services>.allocate(capacity: 1)
        table.initialize(to: mp_host_services())
        table.pointee.struct_size = UInt32(MemoryLayout<mp_host_services>.size)
        table.pointee.host_ctx = Unmanaged.passRetained(bridge).toOpaque()
        table.pointee.log = { context, level, message in
            guard let context, let message else { return }
            let bridge = Unmanaged<HostServicesBridge>.fromOpaque(context).takeUnretainedValue()
            let text = String(decoding: UnsafeRawBufferPointer(start: message, count: strlen(message)), as: UTF8.self)
            bridge.logger.log(level: HostServicesBridge.logLevel(level), "\(text)", metadata: ["provider": "\(bridge.label)"])
        }
        table.pointee.emit_event = { context, event in
            guard let context, let pointer = event.ptr else { return }
            let bridge = Unmanaged<HostServicesBridge>.fromOpaque(context).takeUnretainedValue()
            let bytes = UnsafeRawBufferPointer(start: pointer, count: event.len)
            guard let payload = try? WireCoding.decode(JSONValue.self, from: bytes) else {
                bridge.logger.warning("provider emitted an event that is not JSON; dropped", metadata: ["provider": "\(bridge.label)"])
                return
            }
            bridge.sink(ProviderEvent(provider: bridge.label, payload: payload))
        }
        table.pointee.is_cancelled = { _, call in
            guard let context = call?.pointee.host_call_ctx else { return 0 }
            return Unmanaged<CallState>.fromOpaque(context).takeUnretainedValue().isAbandoned ? 1 : 0
        }
        bridge.table = table
        return bridge
    }

    private init(label: String, logger: Logger, sink: @escaping ProviderEventSink) {
        self.label = label
        self.logger = logger
        self.sink = sink
    }

    static func logLevel(_ level: Int32) -> Logger.Level {
        switch level {
        case 0: .trace
        case 1: .debug
        case 2: .info
        case 3: .warning
        default: .error
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
