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

/// Receives provider log lines (already bounded); the default writes them to the Host's logger.
public typealias ProviderLogSink = @Sendable (Logger.Level, String) -> Void

/// The C `mp_host_services` table handed to one provider library, and the Swift context behind its `host_ctx`.
/// Allocated once per library and never freed: providers may keep the pointer for the life of the process.
final class HostServicesBridge: Sendable {
    let logger: Logger
    let label: String
    let sink: ProviderEventSink
    let logSink: ProviderLogSink
    /// Stable for the life of the process (intentionally leaked with the bridge).
    nonisolated(unsafe) private(set) var table: UnsafeMutablePointer<mp_host_services>!

    static func make(label: String, logger: Logger, sink: @escaping ProviderEventSink, logSink: ProviderLogSink? = nil) -> HostServicesBridge {
        let bridge = HostServicesBridge(
            label: label, logger: logger, sink: sink,
            logSink: logSink ?? { level, text in logger.log(level: level, "\(text)", metadata: ["provider": "\(label)"]) }
        )
        let table = UnsafeMutablePointer<mp_host_services>.allocate(capacity: 1)
        table.initialize(to: mp_host_services())
        table.pointee.struct_size = UInt32(MemoryLayout<mp_host_services>.size)
        table.pointee.host_ctx = Unmanaged.passRetained(bridge).toOpaque()
        table.pointee.log = { context, level, message in
            guard let context, let message else { return }
            let bridge = Unmanaged<HostServicesBridge>.fromOpaque(context).takeUnretainedValue()
            bridge.logSink(HostServicesBridge.logLevel(level), BoundedCString.read(message, limit: ProviderBounds.maxLogLineBytes))
        }
        table.pointee.emit_event = { context, event in
            guard let context, let pointer = event.ptr else { return }
            let bridge = Unmanaged<HostServicesBridge>.fromOpaque(context).takeUnretainedValue()
            guard event.len <= ProviderBounds.maxEventBytes else {
                bridge.logger.warning(
                    "provider emitted an event of \(event.len) bytes, above the \(ProviderBounds.maxEventBytes)-byte limit; dropped",
                    metadata: ["provider": "\(bridge.label)"]
                )
                return
            }
            let bytes = UnsafeRawBufferPointer(start: pointer, count: event.len)
            guard let payload = try? WireCoding.decode(JSONValue.self, from: bytes) else {
                bridge.logger.warning("provider emitted an event that is not JSON; dropped", metadata: ["provider": "\(bridge.label)"])
                return
            }
            bridge.sink(ProviderEvent(provider: bridge.label, payload: payload))
        }
        // By call id, never through a pointer into Host memory: a late thread gets "cancelled" (no such call).
        table.pointee.is_cancelled = { _, call in
            guard let call else { return 1 }
            return CallRegistry.shared.isCancelled(call.pointee.call_id) ? 1 : 0
        }
        bridge.table = table
        return bridge
    }

    private init(label: String, logger: Logger, sink: @escaping ProviderEventSink, logSink: @escaping ProviderLogSink) {
        self.label = label
        self.logger = logger
        self.sink = sink
        self.logSink = logSink
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
