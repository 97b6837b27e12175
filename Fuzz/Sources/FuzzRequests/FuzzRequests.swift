import HostRequests

/// The entry libFuzzer links against (its runtime references the symbol); the driver in main.swift calls the same
/// function. Any bytes as each JSON body the Host decodes from the network. A refusal is fine; a trap is
/// the bug. A body that is accepted must also hold its bounds (the validation is the contract the store relies on).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequests(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 { fuzzRequestsInput(data, size) }

func fuzzRequestsInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    if let beat = try? HeartbeatBody.decode(bytes) {
        if let tasks = beat.activeTasks, !(0...HeartbeatBody.maximumActiveTasks).contains(tasks) { fatalError("active_tasks out of bounds") }
        if beat.currentTask.map({ $0.utf8.contains(0) }) == true { fatalError("NUL accepted") }
    }
    _ = try? RegisterBody.decode(bytes)
    _ = try? AgentCardBody.decode(bytes)
    _ = try? CreateWorkspaceBody.decode(bytes)
    _ = try? PatchWorkspaceBody.decode(bytes)
    _ = try? WriteFileBody.decode(bytes)
    _ = try? InstallPluginBody.decode(bytes)
    return 0
}
