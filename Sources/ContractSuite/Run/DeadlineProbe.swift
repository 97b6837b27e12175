import Foundation
import ProviderHost
import ProviderWire

/// The deadline and cancellation cases: a provision is cut off part-way through — at half the time this provider's
/// provisions take — so `is_cancelled` turns non-zero while the provider works. What it does then is read from its own
/// late answer (``LateAnswer``) and from `inspect` and `list_owned` afterwards.
enum DeadlineProbe {
    /// How long a provider may take to return once its call was abandoned (the runner's kill grace), plus slack.
    static let grace = Duration.seconds(3)

    /// A deadline inside this provider's provision time (measured now if no case measured it yet).
    static func deadline(_ run: ContractRun) async throws -> Duration {
        if run.fastestProvision == nil {
            let probe = run.newWorkspaceId("measure")
            try await run.provision(probe)
            _ = try await run.stop(probe)
        }
        let fastest = run.fastestProvision ?? .milliseconds(20)
        return max(.milliseconds(1), fastest / 2)
    }

    static func overrun(_ run: ContractRun) async throws {
        let id = run.newWorkspaceId("overrun")
        run.track(id)
        let restartsBefore = run.instance.runtime.restarts
        let lateBefore = run.instance.recentLateAnswers.count
        var deadline = try await deadline(run)
        var verdict: ProviderCallError?
        for _ in 0..<3 {
            let started = ContinuousClock.now
            do {
                _ = try await run.instance.call(.provision, run.provisionRequest(id), as: ProvisionResponse.self, timeout: deadline)
            } catch {
                verdict = error
                let took = ContinuousClock.now - started
                try run.expect(error.status == .deadlineExceeded, "provision past its deadline answered \(error.status.name): \(error.message)")
                try run.expect(took < deadline + .seconds(1), "DEADLINE_EXCEEDED came \(took) after a deadline of \(deadline)")
                break
            }
            // Faster than the deadline this time: it completed. Stop it and cut sooner.
            _ = try await run.stop(id)
            deadline = max(.milliseconds(1), deadline / 4)
        }
        guard let verdict else { return }  // the provider completes faster than any deadline the suite can give it
        if !verdict.isDeadlineVerdict {
            // The provider answered in time itself (it saw the deadline coming): that answer is the one to check.
            try run.expectMessage(verdict, "provision past its deadline")
            try await expectConsistent(run, id, answered: verdict.status, what: "at its deadline")
            return
        }
        // The provider's own answer: it must come within the grace (else the runner is killed, and that is a failure).
        let waitUntil = ContinuousClock.now + grace
        var late: LateAnswer?
        while late == nil && ContinuousClock.now < waitUntil {
            late = run.instance.recentLateAnswers.dropFirst(lateBefore).last { $0.verb == .provision }
            if late == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        let restarts = run.instance.runtime.restarts - restartsBefore
        try run.expect(
            restarts == 0,
            "the provider ignored is_cancelled: its runner was killed \(grace) after the deadline of \(deadline) (\(run.instance.runtime.lastCrash ?? "no reason"))"
        )
        if run.launch.isolation == .process || late != nil {
            try run.expect(late != nil, "the provider had not returned \(grace) after the deadline of \(deadline)")
        }
        try await expectConsistent(run, id, answered: late.map { $0.status }, what: "after its deadline")
    }

    static func cancelled(_ run: ContractRun) async throws {
        let id = run.newWorkspaceId("cancel")
        run.track(id)
        let restartsBefore = run.instance.runtime.restarts
        let after = try await deadline(run)
        let request = run.provisionRequest(id)
        let call = Task { () -> ProviderStatus in
            do throws(ProviderCallError) {
                _ = try await run.instance.call(.provision, request, as: ProvisionResponse.self)
                return .ok
            } catch { return error.status }
        }
        try await Task.sleep(for: after)
        call.cancel()
        let started = ContinuousClock.now
        let status = await call.value
        let took = ContinuousClock.now - started
        try run.expect(took < grace, "a cancelled provision took \(took) to answer")
        try run.expect(run.instance.runtime.restarts == restartsBefore, "the provider's runner died while a provision was cancelled")
        try await expectConsistent(run, id, answered: status, what: "after it was cancelled")
    }

    /// An OK answer means a running instance (stopped here); an error means none was left.
    static func expectConsistent(_ run: ContractRun, _ id: String, answered: ProviderStatus?, what: String) async throws {
        let seen: InspectResponse = try await run.ok(.inspect, WorkspaceRef(workspaceId: id))
        let owned: ListOwnedResponse = try await run.ok(.listOwned, ListOwnedRequest(owner: run.owner))
        let listed = owned.resources.contains { $0.workspaceId == id && $0.kind == .instance }
        if let answered, answered != .ok {
            try run.expect(
                !listed && (seen.state == .absent || seen.state == .stopped),
                "the provider answered \(answered.name) \(what) but left the instance \(seen.state.rawValue)\(listed ? " and listed" : "")")
        }
        _ = try await run.stop(id)
    }
}
