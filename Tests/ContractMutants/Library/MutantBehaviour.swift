import ContractMutantCatalogue
import Foundation
import ProviderABI
import ProviderWire

extension MutantInstance {
    /// The call as the mutation answers it: usually the inner provider's answer, changed in one place.
    func mutated(_ verb: Verb, request: [UInt8], call: UnsafePointer<mp_call>) -> InnerResult {
        let json = (try? WireCoding.decode(JSONValue.self, from: request.isEmpty ? Array("{}".utf8) : request)) ?? .object([:])
        let workspace = json["workspace_id"]?.stringValue ?? ""
        switch (mutation, verb) {
        case (.ignoresDeadline, .provision) where Self.shortDeadline(call):
            let answer = forward(verb, request, call: call)
            usleep(3_000_000)  // a backend call that never looks at is_cancelled
            return answer
        case (.leaksOnCancel, .provision) where Self.shortDeadline(call):
            let answer = forward(verb, request, call: call)
            var waited = 0
            while !Self.isCancelled(call) && waited < 300 {
                usleep(10_000)
                waited += 1
            }
            return answer.status == .ok ? .error(.deadlineExceeded, "provision was cancelled (the instance is left running)") : answer
        case (.removesRunningStorage, .removeStorage):
            let answer = forward(verb, request, call: call)
            guard answer.status == .conflict else { return answer }
            _ = forward(.stop, request, call: call)
            return forward(verb, request, call: call)
        case (.ignoresCursor, .logs):
            return forward(verb, Self.removing("cursor", from: json), call: call)
        case (.ignoresTailLines, .logs):
            return forward(verb, Self.removing("tail_lines", from: json), call: call)
        case (.followsLinks, .readFile):
            let answer = forward(verb, request, call: call)
            guard answer.status == .invalidArgument, let path = json["path"]?.stringValue,
                let data = FileManager.default.contents(atPath: "\(stateDir)/workspaces/\(workspace)/configs/\(path)")
            else { return answer }
            let content: [String: JSONValue] = [
                "path": .string(path), "size": .number(Double(data.count)), "content_base64": .string(data.base64EncodedString()),
                "mode": .number(420),
            ]
            return .ok(.object(content))
        case (.stopLeavesInstance, .stop):
            let known = forward(.inspect, request, call: call).json?["state"]?.stringValue
            return known == "running" || known == "paused" ? .ok(.object(["stopped": .bool(true)])) : forward(verb, request, call: call)
        case (.hidesInstances, .listOwned):
            return Self.mapResources(forward(verb, request, call: call)) { $0.filter { $0["kind"]?.stringValue != "instance" } }
        case (.dropsFileOnRestore, .restore):
            let answer = forward(verb, request, call: call)
            guard answer.status == .ok else { return answer }
            let listing = forward(.listFiles, .object(["workspace_id": .string(workspace), "path": .string(""), "depth": .number(5)]), call: call)
            let files = (listing.json?["files"]?.arrayValue ?? []).filter { $0["dir"] == .bool(false) }.compactMap { $0["path"]?.stringValue }
            if let victim = files.filter({ !$0.hasPrefix(".") }).sorted().last {
                _ = forward(.deleteFile, .object(["workspace_id": .string(workspace), "path": .string(victim)]), call: call)
            }
            return answer
        case (.changesCreatedAt, .listOwned):
            let now = Double(Date().timeIntervalSince1970 * 1000).rounded()
            return Self.mapResources(forward(verb, request, call: call)) { resources in
                resources.map { resource in
                    guard case .object(var object) = resource else { return resource }
                    object["created_at_ms"] = .number(now)
                    return .object(object)
                }
            }
        case (.errorWithoutMessage, _):
            var answer = forward(verb, request, call: call)
            if answer.status != .ok { answer.message = nil }
            return answer
        case (.snapshotsUnknown, .snapshot):
            let answer = forward(verb, request, call: call)
            return answer.status == .notFound ? .ok(.object(["snapshot_id": .string("snap-of-nothing")])) : answer
        case (.ignoresMode, .writeFile):
            return forward(verb, Self.removing("mode", from: json), call: call)
        case (.ignoresDepth, .listFiles):
            guard case .object(var object) = json else { return forward(verb, request, call: call) }
            object["depth"] = .number(5)
            return forward(verb, .object(object), call: call)
        case (.describesWrongVersion, .describe):
            var answer = forward(verb, request, call: call)
            if case .object(var object)? = answer.json {
                object["version"] = .string("9.9.9")
                answer = .ok(.object(object))
            }
            return answer
        case (.reprovisions, .provision):
            if forward(.inspect, request, call: call).json?["state"]?.stringValue == "running" { _ = forward(.stop, request, call: call) }
            return forward(verb, request, call: call)
        case (.inspectUnknownNotFound, .inspect):
            let answer = forward(verb, request, call: call)
            return answer.json?["state"]?.stringValue == "absent" ? .error(.notFound, "no workspace \(workspace)") : answer
        case (.stopsUnknown, .stop):
            let answer = forward(verb, request, call: call)
            return answer.json?["stopped"] == .bool(false) ? .ok(.object(["stopped": .bool(true)])) : answer
        case (.hidesOutage, .describe):
            let answer = forward(verb, request, call: call)
            let healthy: [String: JSONValue] = ["name": .string("process"), "version": .string("1.1.0"), "backend": .string("up")]
            return answer.status == .unavailable ? .ok(.object(healthy)) : answer
        case (.pauseDoesNothing, .pause):
            let answer = forward(.inspect, request, call: call)
            guard case .object(var object)? = answer.json, object["state"]?.stringValue == "running" else {
                return forward(verb, request, call: call)
            }
            object["state"] = .string("paused")
            return .ok(.object(object))
        case (.restoresOntoLive, .restore):
            let answer = forward(verb, request, call: call)
            guard answer.status == .conflict else { return answer }
            _ = forward(.stop, request, call: call)
            return forward(verb, request, call: call)
        case (.diagnoseBadShape, .diagnose):
            return Self.mapStages(forward(verb, request, call: call))
        default:
            return forward(verb, request, call: call)
        }
    }

    /// Less than 2 s left: the contract suite's deadline cases (the rest of the suite uses long deadlines).
    static func shortDeadline(_ call: UnsafePointer<mp_call>) -> Bool {
        let deadline = call.pointee.deadline_mono_ns
        return deadline != 0 && deadline > MonotonicClock.now() && deadline - MonotonicClock.now() < 2_000_000_000
    }

    static func removing(_ key: String, from json: JSONValue) -> JSONValue {
        guard case .object(var object) = json else { return json }
        object.removeValue(forKey: key)
        return .object(object)
    }

    static func mapResources(_ answer: InnerResult, _ change: ([JSONValue]) -> [JSONValue]) -> InnerResult {
        guard case .object(var object)? = answer.json, let resources = object["resources"]?.arrayValue else { return answer }
        object["resources"] = .array(change(resources))
        return .ok(.object(object))
    }

    static func mapStages(_ answer: InnerResult) -> InnerResult {
        guard case .object(var object)? = answer.json, let stages = object["stages"]?.arrayValue else { return answer }
        object["stages"] = .array(
            stages.map { stage in
                guard case .object(var fields) = stage else { return stage }
                fields["duration_ms"] = .string("\(fields["duration_ms"]?.numberValue ?? 0) ms")
                return .object(fields)
            })
        return .ok(.object(object))
    }
}
