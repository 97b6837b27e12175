import ProviderABI
import ProviderWire
import Synchronization

/// The services the Host offered at negotiation (`mp_host_services`): logging, events, cancellation.
public struct HostServices: @unchecked Sendable {
    /// Levels of the Host's log (`mp_log_level`).
    public enum LogLevel: Int32, Sendable {
        case trace = 0
        case debug = 1
        case info = 2
        case warning = 3
        case error = 4
    }

    let table: UnsafePointer<mp_host_services>

    /// The services of the Host that loaded this provider; `nil` before negotiation (e.g. in unit tests).
    public static var current: HostServices? { ProviderExport.state.withLock { $0.services } }

    private func has(_ offset: Int?) -> Bool {
        guard let offset else { return false }
        return Int(table.pointee.struct_size) >= offset + MemoryLayout<UnsafeRawPointer>.size
    }

    /// Writes one line into the Host's structured log.
    public func log(_ level: LogLevel, _ message: String) {
        guard has(MemoryLayout<mp_host_services>.offset(of: \.log)), let log = table.pointee.log else { return }
        message.withCString { log(table.pointee.host_ctx, level.rawValue, $0) }
    }

    /// Records a lifecycle event (`{"type": ..., "workspace_id": ...}`) in the Host's event stream.
    public func emitEvent(type: String, workspaceId: String, detail: [String: String] = [:]) {
        guard has(MemoryLayout<mp_host_services>.offset(of: \.emit_event)), let emit = table.pointee.emit_event else { return }
        var object: [String: String] = detail
        object["type"] = type
        object["workspace_id"] = workspaceId
        guard let bytes = try? WireCoding.encode(object) else { return }
        bytes.withUnsafeBufferPointer { buffer in
            emit(table.pointee.host_ctx, mp_bytes(ptr: buffer.baseAddress, len: buffer.count))
        }
    }

    func isCancelled(_ call: UnsafePointer<mp_call>) -> Bool {
        guard has(MemoryLayout<mp_host_services>.offset(of: \.is_cancelled)), let check = table.pointee.is_cancelled else {
            return false
        }
        return check(table.pointee.host_ctx, call) != 0
    }
}
