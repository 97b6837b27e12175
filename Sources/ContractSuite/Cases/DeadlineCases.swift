import Foundation
import ProviderHost
import ProviderWire

/// Deadlines and cancellation, tested at the provider (part of `lifecycle`).
extension ContractCatalogue {
    static let deadlines: [ContractCase] = [
        ContractCase(
            "deadline.honoured", "a call with no time left answers DEADLINE_EXCEEDED promptly", profile: .lifecycle, exercises: [.provision, .stop]
        ) { run in
            let id = run.newWorkspaceId("deadline")
            let started = ContinuousClock.now
            do {
                _ = try await run.instance.call(.provision, run.provisionRequest(id), as: ProvisionResponse.self, timeout: .zero)
                throw ContractFailure("provision with a zero timeout succeeded")
            } catch let error as ProviderHost.ProviderCallError {
                try run.expect(error.status == .deadlineExceeded, "expected DEADLINE_EXCEEDED, got \(error.status.name): \(error.message)")
            }
            let elapsed = ContinuousClock.now - started
            try run.expect(elapsed < .seconds(2), "DEADLINE_EXCEEDED took \(elapsed)")
            try await Task.sleep(for: .milliseconds(200))
            _ = try await run.stop(id)
        },
        ContractCase(
            "deadline.overrun",
            "a provision whose deadline passes mid-call: the Host answers DEADLINE_EXCEEDED at the deadline; the provider returns within the kill grace; an error it answers late left nothing running",
            profile: .lifecycle, exercises: [.provision, .stop], requires: [.provision, .inspect, .stop, .listOwned], tags: ["cancellation"]
        ) { run in
            try await DeadlineProbe.overrun(run)
        },
        ContractCase(
            "deadline.cancelled",
            "a provision cancelled mid-call (the caller went away) answers within the kill grace; an error means nothing was left running",
            profile: .lifecycle, exercises: [.provision, .stop], requires: [.provision, .inspect, .stop, .listOwned], tags: ["cancellation"]
        ) { run in
            try await DeadlineProbe.cancelled(run)
        },
    ]
}
