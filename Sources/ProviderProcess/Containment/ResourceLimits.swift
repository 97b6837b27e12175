import ProviderWire

/// The resources one workspace may use: memory, processes and CPU. From the provider's `limits`, overridden per
/// workspace tier by `tiers."<tier>"` (the names the Docker provider's tiers use). Absent means unlimited.
struct ResourceLimits: Decodable, Sendable, Hashable {
    /// Memory, MiB (`memory.max` / `memory.limit_in_bytes`).
    var memoryMb: Int?
    /// Processes and threads (`pids.max`).
    var pids: Int?
    /// CPUs, fractional (`cpu.max` / `cpu.cfs_quota_us` over a 100 ms period).
    var cpus: Double?

    enum CodingKeys: String, CodingKey {
        case memoryMb = "memory_mb"
        case pids, cpus
    }

    init(memoryMb: Int? = nil, pids: Int? = nil, cpus: Double? = nil) {
        self.memoryMb = memoryMb
        self.pids = pids
        self.cpus = cpus
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        memoryMb = try c.decodeIfPresent(Int.self, forKey: .memoryMb)
        pids = try c.decodeIfPresent(Int.self, forKey: .pids)
        cpus = try c.decodeIfPresent(Double.self, forKey: .cpus)
        if let memoryMb, memoryMb < 4 { throw ProviderError.invalidArgument("process limits: memory_mb must be at least 4") }
        if let pids, pids < 2 { throw ProviderError.invalidArgument("process limits: pids must be at least 2 (the supervisor and the workload)") }
        if let cpus, !(cpus >= 0.01 && cpus <= 1024) { throw ProviderError.invalidArgument("process limits: cpus must be between 0.01 and 1024") }
    }

    var memoryBytes: Int64? { memoryMb.map { Int64($0) << 20 } }
    var isEmpty: Bool { memoryMb == nil && pids == nil && cpus == nil }

    /// `self` with every value `tier` sets.
    func overridden(by tier: ResourceLimits?) -> ResourceLimits {
        guard let tier else { return self }
        return ResourceLimits(memoryMb: tier.memoryMb ?? memoryMb, pids: tier.pids ?? pids, cpus: tier.cpus ?? cpus)
    }

    /// "memory 512 MiB, pids 256, cpus 1.5", or "none".
    var summary: String {
        var parts: [String] = []
        if let memoryMb { parts.append("memory \(memoryMb) MiB") }
        if let pids { parts.append("pids \(pids)") }
        if let cpus { parts.append("cpus \(cpus)") }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }
}
