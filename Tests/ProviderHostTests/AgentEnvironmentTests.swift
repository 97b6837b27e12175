import ProviderWire
import Testing

/// The agent's environment is assembled in one place (``AgentEnvironment``) by the Host and by every provider.
struct AgentEnvironmentTests {
    @Test func theHostOwnedNamesCannotBeOverriddenByTheUser() {
        let user = ["MODEL": "m1", "WORKSPACE_ID": "forged", "PLATFORM_URL": "http://evil", "TIER": "9", "PARENT_ID": "x", "CONFIGS_DIR": "/etc"]
        let host = AgentEnvironment(workspaceId: "ws-1", platformURL: "http://host:8080", tier: 2, parentId: nil, userEnvironment: user)
        #expect(host.variables == ["MODEL": "m1", "WORKSPACE_ID": "ws-1", "PLATFORM_URL": "http://host:8080", "TIER": "2"])
        let child = AgentEnvironment(workspaceId: "ws-2", platformURL: nil, tier: nil, parentId: "ws-1", userEnvironment: [:])
        #expect(child.variables == ["WORKSPACE_ID": "ws-2", "PARENT_ID": "ws-1"])
    }

    @Test func aProviderRebuildsTheSameEnvironmentFromTheRequestInTheDocumentedPrecedence() {
        let sent = AgentEnvironment(
            workspaceId: "ws-1", platformURL: "http://host", tier: 3, parentId: "p", userEnvironment: ["PATH": "/custom", "A": "1"])
        let request = ProvisionRequest(workspaceId: "ws-1", tier: 3, env: sent.variables, platformUrl: "http://host")
        let agent = AgentEnvironment(request: request).variables(
            filesRoot: "/configs", base: ["PATH": "/usr/bin", "HOME": "/root"], labels: ["MOLECULE_OWNER": "o"])
        #expect(
            agent == [
                "PATH": "/custom", "HOME": "/root", "A": "1", "MOLECULE_OWNER": "o", "WORKSPACE_ID": "ws-1", "PLATFORM_URL": "http://host",
                "TIER": "3", "PARENT_ID": "p", "WORKSPACE_CONFIG_PATH": "/configs", "CONFIGS_DIR": "/configs",
                "MOLECULE_WORKSPACE_TOKEN_FILE": "/configs/.auth_token",
            ])
        // A request's typed fields win over its env (a caller other than the Host cannot mislabel the agent).
        let forged = ProvisionRequest(workspaceId: "real", env: ["WORKSPACE_ID": "forged", "TIER": "1"])
        #expect(AgentEnvironment(request: forged).variables(filesRoot: "/c")["WORKSPACE_ID"] == "real")
        #expect(AgentEnvironment(request: forged).tier == 1)
        #expect(
            AgentEnvironment.identity(workspaceId: "w", filesRoot: "/configs").keys.sorted() == [
                "CONFIGS_DIR", "MOLECULE_WORKSPACE_TOKEN_FILE", "WORKSPACE_CONFIG_PATH", "WORKSPACE_ID",
            ])
        #expect(AgentEnvironment.strings(in: ["A": "x", "N": 1, "B": "y"]) == ["A": "x", "B": "y"])
    }

    @Test(arguments: ["", ".hidden", "../x", "a/b", "a..b", "sp ace", "na\u{EF}ve", String(repeating: "x", count: 129)])
    func identifiersOutsideTheRuleAreRefused(id: String) {
        #expect(!Identifier.isValid(id))
        #expect(throws: ProviderError.self) { try Identifier.validateWorkspaceId(id) }
    }

    @Test func identifiersInsideTheRuleAreAccepted() throws {
        for id in ["a", "ws-1", "3f2b8c1e-0d4a-4e7b-9c55-1a2b3c4d5e6f", "A.b_c-d", String(repeating: "x", count: 128)] {
            #expect(Identifier.isValid(id), "\(id)")
            try Identifier.validateWorkspaceId(id)
        }
    }
}
