import Foundation
import ProviderHost
import ProviderWire
import Synchronization

/// A case failed: what was expected and what happened.
public struct ContractFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The context one case runs in: the provider instance, fresh workspace ids, and assertion helpers.
public final class ContractRun: Sendable {
    public let instance: ProviderInstance
    public let configuration: ContractConfiguration
    /// The owner label this run gave the provider (run-unique unless the configuration set one).
    public let owner: String
    public let runId: String
    /// What the Host knows of the provider under test.
    public let identity: ProviderIdentity
    let launch: ProviderLaunch
    /// Ids handed out so far, and the ones provisioned (for the final clean-up).
    private let ids = Mutex<(counter: Int, provisioned: Set<String>)>((0, []))
    /// How long each successful provision took (the deadline cases aim inside it).
    private let provisionTimes = Mutex<[Duration]>([])

    init(
        instance: ProviderInstance, launch: ProviderLaunch, identity: ProviderIdentity, configuration: ContractConfiguration, owner: String,
        runId: String
    ) {
        self.instance = instance
        self.launch = launch
        self.identity = identity
        self.configuration = configuration
        self.owner = owner
        self.runId = runId
    }

    var timeout: Duration { .milliseconds(configuration.verbTimeoutMs) }

    /// A workspace id no other case (or run) uses.
    public func newWorkspaceId(_ label: String = "ws") -> String {
        ids.withLock { ids in
            ids.counter += 1
            return "ct-\(runId)-\(label)-\(ids.counter)"
        }
    }

    /// Every workspace id provisioned in this run (for the final clean-up).
    var provisionedIds: [String] { ids.withLock { $0.provisioned.sorted() } }

    /// The provision request for `workspaceId`, with the configured workload merged in.
    public func provisionRequest(_ workspaceId: String, snapshotId: String? = nil) -> ProvisionRequest {
        let workload = configuration.workload
        let env = ["MOLECULE_CONTRACT_RUN": runId].merging(AgentEnvironment.strings(in: workload["env"])) { _, configured in configured }
        let command: [String]? = {
            guard case .array(let parts)? = workload["command"] else { return nil }
            return parts.compactMap(\.stringValue)
        }()
        return ProvisionRequest(
            workspaceId: workspaceId, name: workspaceId, runtime: workload["runtime"]?.stringValue, tier: nil,
            image: workload["image"]?.stringValue, command: command, env: env, token: "contract-token-\(workspaceId)",
            platformUrl: workload["platform_url"]?.stringValue ?? "http://127.0.0.1:1", snapshotId: snapshotId,
            options: workload["options"]
        )
    }

    // MARK: Verbs

    /// Calls `verb` and expects success.
    @discardableResult
    public func ok<Response: Decodable>(
        _ verb: Verb, _ request: some Encodable, as: Response.Type = Response.self, timeout: Duration? = nil
    )
        async throws -> Response
    {
        let body: [UInt8]
        do {
            body = try await instance.call(verb, request: try WireCoding.encode(request), timeout: timeout ?? self.timeout)
        } catch let error as ProviderCallError {
            throw ContractFailure("\(verb) failed: \(error.status.name): \(error.message)")
        }
        try checkShape(of: body, answering: verb)
        do {
            return try WireCoding.decode(Response.self, from: body.isEmpty ? Array("{}".utf8) : body)
        } catch {
            throw ContractFailure("\(verb) answered JSON of the wrong shape: \(DecodingErrorText.describe(error))")
        }
    }

    /// Validates a successful answer against the verb's response schema (docs/schemas), the one source the doc and
    /// every provider share.
    func checkShape(of body: [UInt8], answering verb: Verb) throws {
        guard let json = try? WireCoding.decode(JSONValue.self, from: body.isEmpty ? Array("{}".utf8) : body) else {
            throw ContractFailure("\(verb) answered a body that is not JSON")
        }
        let problems = WireSchemas.response(of: verb).validate(json)
        if !problems.isEmpty {
            throw ContractFailure(
                "\(verb) answered outside its schema (docs/schemas/\(verb.wireName).response.json): \(problems.prefix(3).joined(separator: "; "))")
        }
    }

    /// Calls `verb` and expects exactly `status`.
    public func expectError(_ status: ProviderStatus, _ verb: Verb, _ request: some Encodable, _ what: String) async throws {
        do {
            let body = try await instance.call(verb, request: try WireCoding.encode(request), timeout: timeout)
            throw ContractFailure("\(what): expected \(status.name), got success \(String(decoding: body.prefix(200), as: UTF8.self))")
        } catch let error as ProviderCallError {
            if error.status != status {
                throw ContractFailure("\(what): expected \(status.name), got \(error.status.name): \(error.message)")
            }
            try expectMessage(error, what)
        }
    }

    /// Every non-OK result carries a message a user can act on (the header requires one).
    public func expectMessage(_ error: ProviderCallError, _ what: String) throws {
        if error.providerGaveNoMessage {
            throw ContractFailure("\(what): the provider answered \(error.status.name) without a message (every error must carry one)")
        }
    }

    /// The instances of this run's owner that are still running after a case, stopped: nil when there were none,
    /// else the failure text (a case must stop what it started).
    func stopLeakedInstances() async -> String? {
        guard let owned = try? await instance.call(.listOwned, ListOwnedRequest(owner: owner), as: ListOwnedResponse.self, timeout: timeout) else {
            return "list_owned failed after the case, so leaks could not be checked"
        }
        let leaked = Set(owned.resources.filter { $0.kind == .instance }.map(\.workspaceId)).sorted()
        guard !leaked.isEmpty else { return nil }
        for id in leaked { _ = try? await instance.call(.stop, WorkspaceRef(workspaceId: id), as: StopResponse.self, timeout: timeout) }
        return "leaked: list_owned still shows \(leaked.count == 1 ? "an instance" : "instances") after the case: \(leaked.joined(separator: ", "))"
    }

    /// The shortest provision this run has measured (nil before the first).
    var fastestProvision: Duration? { provisionTimes.withLock { $0.min() } }

    /// Remembers a workspace created by other means than ``provision(_:)`` (restore), for the final clean-up.
    public func track(_ workspaceId: String) {
        ids.withLock { _ = $0.provisioned.insert(workspaceId) }
    }

    @discardableResult
    public func provision(_ workspaceId: String) async throws -> ProvisionResponse {
        track(workspaceId)
        let started = ContinuousClock.now
        let response: ProvisionResponse = try await ok(.provision, provisionRequest(workspaceId))
        let took = ContinuousClock.now - started
        provisionTimes.withLock { $0.append(took) }
        try expect(response.state == .running || response.state == .starting, "provision answered state \(response.state.rawValue)")
        try expect(!response.instanceRef.isEmpty, "provision answered an empty instance_ref")
        return response
    }

    /// Inspects until the state is `state` (bounded: the verb timeout), for backends that settle asynchronously.
    @discardableResult
    public func waitForState(_ workspaceId: String, _ accepted: Set<InstanceState>, _ what: String) async throws -> InspectResponse {
        let deadline = ContinuousClock.now + timeout
        var last: InspectResponse
        repeat {
            last = try await ok(.inspect, WorkspaceRef(workspaceId: workspaceId))
            if accepted.contains(last.state) { return last }
            try await Task.sleep(for: .milliseconds(100))
        } while ContinuousClock.now < deadline
        throw ContractFailure("\(what): state is \(last.state.rawValue), expected \(accepted.map(\.rawValue).sorted().joined(separator: " or "))")
    }

    public func stop(_ workspaceId: String) async throws -> StopResponse {
        try await ok(.stop, WorkspaceRef(workspaceId: workspaceId))
    }

    public func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw ContractFailure(message()) }
    }

    /// Whether the provider claims `verb`.
    public func claims(_ verb: Verb) -> Bool { identity.manifest.verbs[verb.wireName] != nil }
}

extension ContractRun {
    /// A second instance of the same provider library (a restarted Host, or another backend configuration).
    public func makeInstance(configuration: JSONValue) async throws -> ProviderInstance {
        var second = launch
        second.configuration = configuration
        second.threads = 4
        do { return try await ProviderInstance.start(second) } catch {
            throw ContractFailure("a second instance with another configuration could not start: \(error.description)")
        }
    }

    /// The configuration the run's instance was created with (owner included).
    public var providerConfiguration: JSONValue {
        guard case .object(var object) = configuration.config else { return configuration.config }
        if object["owner"] == nil { object["owner"] = .string(owner) }
        return .object(object)
    }
}
