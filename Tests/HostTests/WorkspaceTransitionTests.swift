import HostStore
import Testing

/// The lifecycle's transition table, as data.
@Suite struct WorkspaceTransitionTests {
    @Test func removedNeverMovesAndFailedAlwaysSaysWhy() {
        for transition in WorkspaceTransition.all {
            #expect(transition.next(from: .removed) == nil, "\(transition)")
            #expect(transition.requiresMessage == (transition.to == .failed), "\(transition)")
            #expect(!transition.from.isEmpty && transition.event.hasPrefix("WORKSPACE_"), "\(transition)")
        }
        #expect(Set(WorkspaceTransition.all.map(\.name)).count == WorkspaceTransition.all.count)
    }

    @Test func theTableAnswersStatusTimesEvent() {
        #expect(WorkspaceTransition.pause.next(from: .online) == .paused)
        #expect(WorkspaceTransition.pause.next(from: .failed) == nil)
        #expect(WorkspaceTransition.resume.next(from: .hibernated) == .online)
        #expect(WorkspaceTransition.restart.next(from: .failed) == .provisioning)
        #expect(WorkspaceTransition.restart.next(from: .hibernating) == nil)
        #expect(WorkspaceTransition.heartbeatDegraded.next(from: .degraded) == nil)
        #expect(WorkspaceTransition.provisionFailed.next(from: .online) == nil, "a late failure never overwrites a serving workspace")
        // Every status but removed can be left by some transition, and every status but provisioning/hibernating/
        // awaiting_agent (set at create) is reached by one.
        let left = Set(WorkspaceTransition.all.flatMap(\.from))
        #expect(left == WorkspaceTransition.live)
        let reached = Set(WorkspaceTransition.all.map(\.to))
        #expect(reached.isSuperset(of: [.online, .offline, .degraded, .failed, .removed, .paused, .hibernated, .awaitingAgent, .provisioning]))
    }
}
