// molecule-bench: figures for the provider ABI, each beside a baseline measured in the same run.
//
//   molecule-bench [--products DIR] [--c-example PATH] [--iterations N]
//
// 1. A no-op verb round trip through the ABI (JSON request in, JSON response out, on the calling thread), beside a
//    direct Swift call doing the same JSON work without crossing the ABI.
// 2. The same verb through the Host's full call path (worker thread + deadline timer), from async code.
// 3. The same verb out of process (a runner process over its socket), beside the in-process call path of 2, in one run.
// 4. Load + negotiate time per provider library (fresh copies, so each load really maps the file).
import Foundation
@_spi(Benchmarks) import ProviderHost
import ProviderWire

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
let products = option("--products") ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
let iterations = Int(option("--iterations") ?? "") ?? 100_000
let cExample = option("--c-example")

/// Nanoseconds of each of `count` runs of `body`.
func sample(_ count: Int, _ body: () -> Void) -> [UInt64] {
    var samples = [UInt64](repeating: 0, count: count)
    for i in 0..<count {
        let start = MonotonicClock.now()
        body()
        samples[i] = MonotonicClock.now() - start
    }
    return samples.sorted()
}

func percentile(_ sorted: [UInt64], _ p: Double) -> Double {
    Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1000
}

func report(_ label: String, _ sorted: [UInt64]) -> (median: Double, p99: Double) {
    let median = percentile(sorted, 0.5)
    let p99 = percentile(sorted, 0.99)
    print(String(format: "  %-46@ median %7.3f µs   p99 %7.3f µs   (n=%d)", label as NSString, median, p99, sorted.count))
    return (median, p99)
}

print("molecule-bench: \(iterations) iterations per figure; products in \(products)")
let noop = try ProviderLibrary.load(path: "\(products)/libProviderNoop.so")
let instance = try ProviderInstance(library: noop)
let request = WorkspaceRef(workspaceId: "bench-workspace")

// Warm up both paths.
for _ in 0..<2_000 {
    _ = try WireCoding.decode(InspectResponse.self, from: instance.invokeOnCurrentThread(.inspect, request: try WireCoding.encode(request)).get())
}

print("\n1. no-op verb round trip (inspect: JSON request in, JSON response out)")
let direct = report(
    "direct Swift call, same JSON work (baseline)",
    sample(iterations) {
        let bytes = try! WireCoding.encode(request)
        let decoded = try! WireCoding.decode(WorkspaceRef.self, from: bytes)
        let response = try! WireCoding.encode(InspectResponse(state: decoded.workspaceId.isEmpty ? .running : .absent))
        _ = try! WireCoding.decode(InspectResponse.self, from: response)
    })
let abi = report(
    "through the C ABI (libProviderNoop.so)",
    sample(iterations) {
        let bytes = try! WireCoding.encode(request)
        let response = try! instance.invokeOnCurrentThread(.inspect, request: bytes).get()
        _ = try! WireCoding.decode(InspectResponse.self, from: response)
    })
print(
    String(
        format: "  ABI crossing cost: median %+.3f µs (%.2f× the direct call); target ≤ 2 µs per round trip: %@",
        abi.median - direct.median, abi.median / direct.median, abi.median <= 2 ? "met" : "NOT met"))

print("\n2. the Host's call path (worker thread + deadline), awaited from async code")
let asyncCount = min(iterations, 20_000)
var asyncSamples = [UInt64](repeating: 0, count: asyncCount)
for i in 0..<asyncCount {
    let start = MonotonicClock.now()
    _ = try await instance.call(.inspect, request, as: InspectResponse.self)
    asyncSamples[i] = MonotonicClock.now() - start
}
let hop = report("ProviderInstance.call", asyncSamples.sorted())
print(String(format: "  thread hop + timer cost over the ABI call: median %+.3f µs", hop.median - abi.median))

print("\n3. out of process: the same call through a runner process (socket, framing, the runner's worker thread)")
let isolated = try await ProviderInstance.start(ProviderLaunch(path: "\(products)/libProviderNoop.so", isolation: .process))
for _ in 0..<2_000 { _ = try await isolated.call(.inspect, request, as: InspectResponse.self) }
var isolatedSamples = [UInt64](repeating: 0, count: asyncCount)
for i in 0..<asyncCount {
    let start = MonotonicClock.now()
    _ = try await isolated.call(.inspect, request, as: InspectResponse.self)
    isolatedSamples[i] = MonotonicClock.now() - start
}
let outOfProcess = report("ProviderInstance.call, isolation: process", isolatedSamples.sorted())
print(
    String(
        format: "  out-of-process / in-process: %.2f× (median %+.3f µs); target ≤ 50 µs median: %@",
        outOfProcess.median / hop.median, outOfProcess.median - hop.median, outOfProcess.median <= 50 ? "met" : "NOT met"))
await isolated.shutdown()

print("\n4. load + negotiate per provider (fresh copy of the file each time; target ≤ 5 ms)")
var libraries = [("noop", "\(products)/libProviderNoop.so"), ("process", "\(products)/libProviderProcess.so")]
if let cExample { libraries.append(("c-example", cExample)) }
let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("molecule-bench-\(getpid())")
try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: scratch) }
for (name, path) in libraries {
    var loads: [UInt64] = []
    for copy in 0..<20 {
        let target = scratch.appendingPathComponent("\(name)-\(copy).so").path
        try FileManager.default.copyItem(atPath: path, toPath: target)
        let library = try ProviderLibrary.load(path: target)
        loads.append(library.loadNanoseconds)
    }
    loads.sort()
    let size = ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) / 1024
    print(
        String(
            format: "  %-10@ median %7.3f ms   max %7.3f ms   (%d KiB, %d loads)", name as NSString,
            Double(loads[loads.count / 2]) / 1e6, Double(loads.last!) / 1e6, size, loads.count))
}
await instance.shutdown()
