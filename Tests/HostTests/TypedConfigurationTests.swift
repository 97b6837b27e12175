import Foundation
import HostAPI
import HostDispatch
import ProviderWire
import Testing

/// The Host file is decoded strictly: an unknown key, a wrong type or a value out of range is refused with the file,
/// the key path and what fits; a valid file (YAML or JSON) gives exactly the values it says.
@Suite struct TypedConfigurationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Writes `text` to a fresh file and loads it as `molecule-host serve --config` does (no environment).
    static func load(
        _ text: String, extension ext: String = "yaml", environment: [String: String] = [:]
    ) throws(ConfigurationError) -> HostConfiguration {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("typed-config-\(UUID().uuidString.prefix(8)).\(ext)")
        _ = FileManager.default.createFile(atPath: file.path, contents: Data(text.utf8))
        defer { try? FileManager.default.removeItem(at: file) }
        return try HostConfiguration.load(path: file.path, environment: environment, executableDirectory: "/opt/molecule/bin")
    }

    /// The error loading `text` gives (nil if it loads).
    static func error(_ text: String, extension ext: String = "yaml") -> ConfigurationError? {
        do {
            _ = try load(text, extension: ext)
            return nil
        } catch {
            return error
        }
    }

    /// The file an error names.
    static func file(of error: ConfigurationError?) -> String? {
        switch error {
        case .wrongType(let file, _, _)?, .unknownKey(let file, _, _)?, .invalidValue(let file, _, _)?, .missingKey(let file, _, _)?,
            .duplicateKey(let file, _)?, .malformed(let file, _)?, .unreadable(let file, _)?:
            return file
        case .invalidEnvironment?, nil:
            return nil
        }
    }

    /// Checks the error is `wrongType` at `path` expecting `expected`, and that its one line says all three.
    static func expectWrongType(
        _ text: String, path: String, expected: String, extension ext: String = "yaml", sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let error = Self.error(text, extension: ext)
        guard let file = file(of: error) else {
            Issue.record("expected a wrongType error, got \(String(describing: error))", sourceLocation: sourceLocation)
            return
        }
        #expect(error == .wrongType(file: file, path: path, expected: expected), sourceLocation: sourceLocation)
        let line = error.map(String.init(describing:)) ?? ""
        #expect(
            line.contains(file) && line.contains(path.isEmpty ? "the top level" : path) && line.contains("expected \(expected)"), "\(line)",
            sourceLocation: sourceLocation)
        #expect(file.hasSuffix(".\(ext)") && !line.contains("\n"), sourceLocation: sourceLocation)
    }

    // MARK: Wrong types

    @Test func aWrongTypeAtTheTopLevelNamesTheKeyAndTheType() {
        Self.expectWrongType("heartbeat_flush_ms: x\n", path: "heartbeat_flush_ms", expected: "a whole number")
        Self.expectWrongType("heartbeat_flush_ms: \"5\"\n", path: "heartbeat_flush_ms", expected: "a whole number")
        Self.expectWrongType("database_url: 5\n", path: "database_url", expected: "a string")
        Self.expectWrongType("admin_token: [a, b]\n", path: "admin_token", expected: "a string")
        Self.expectWrongType("enable_test_tokens: sometimes\n", path: "enable_test_tokens", expected: "true or false")
        Self.expectWrongType("allowed_providers: process\n", path: "allowed_providers", expected: "a list of strings")
        Self.expectWrongType("allowed_providers: [process, 7]\n", path: "allowed_providers[1]", expected: "a string")
        Self.expectWrongType("environment: staging\n", path: "environment", expected: "one of development, production")
        Self.expectWrongType("providers: {name: process}\n", path: "providers", expected: "a list of mappings")
        Self.expectWrongType("listen: 8080\n", path: "listen", expected: "a string HOST:PORT")
        Self.expectWrongType("- listen\n", path: "", expected: "a mapping")
    }

    @Test func aWrongTypeInSweepersNamesTheKeyAndTheType() {
        Self.expectWrongType("sweepers:\n  interval_ms: fast\n", path: "sweepers.interval_ms", expected: "a whole number")
        Self.expectWrongType("sweepers:\n  orphan_dry_run: 1\n", path: "sweepers.orphan_dry_run", expected: "true or false")
        Self.expectWrongType(
            "sweepers:\n  runtime_provision_timeouts: {slow: soon}\n", path: "sweepers.runtime_provision_timeouts.slow",
            expected: "a whole number")
        Self.expectWrongType("sweepers: 15000\n", path: "sweepers", expected: "a mapping")
    }

    static let twoProviders = """
        providers:
          - name: process
            library: /opt/lib/libProviderProcess.so
          - name: docker
            library: /opt/lib/libProviderDocker.so
            limits: {address_space_mb: 1024, open_files: many}
        """

    @Test func aWrongTypeInTheSecondProvidersLimitsNamesTheIndexedPath() {
        Self.expectWrongType(Self.twoProviders, path: "providers[1].limits.open_files", expected: "a whole number")
        let entry = "providers:\n  - name: process\n    library: /opt/lib/libProviderProcess.so\n"
        Self.expectWrongType(
            entry + "    limits: 4096\n", path: "providers[0].limits", expected: "a mapping with address_space_mb, open_files, cpu_seconds")
        Self.expectWrongType(entry + "    isolation: sandbox\n", path: "providers[0].isolation", expected: "one of process, in-process")
        Self.expectWrongType(entry + "    environment: {pass: DOCKER_HOST}\n", path: "providers[0].environment.pass", expected: "a list of strings")
        Self.expectWrongType(
            entry + "    environment: {set: {RATIO: 1.5}}\n", path: "providers[0].environment.set.RATIO",
            expected: "a string, a whole number or true/false")
        Self.expectWrongType(entry + "    threads: 2.5\n", path: "providers[0].threads", expected: "a whole number")
        Self.expectWrongType(entry + "    runner: true\n", path: "providers[0].runner", expected: "a string")
        Self.expectWrongType("providers:\n  - process\n", path: "providers[0]", expected: "a mapping")
    }

    // MARK: Unknown keys, missing keys, ranges

    @Test func anUnknownKeyNamesItsPathAndTheKnownKeys() {
        let nested = Self.twoProviders.replacingOccurrences(of: "open_files: many", with: "open_file: 10")
        let error = Self.error(nested)
        let file = Self.file(of: error) ?? "?"
        #expect(error == .unknownKey(file: file, path: "providers[1].limits.open_file", known: ["address_space_mb", "cpu_seconds", "open_files"]))
        #expect(error.map(String.init(describing:))?.contains("unknown key providers[1].limits.open_file") == true)

        let sweepers = Self.error("sweepers:\n  enabled: true\n  interval: 100\n")
        guard case .unknownKey(_, let path, let known)? = sweepers else {
            Issue.record("expected unknownKey, got \(String(describing: sweepers))")
            return
        }
        #expect(path == "sweepers.interval" && known.contains("interval_ms"))
        guard case .unknownKey(_, "listen_port", _)? = Self.error("listen_port: 8080\n") else {
            Issue.record("a top-level unknown key is refused")
            return
        }
    }

    @Test func rangesAndRequiredKeysNameTheirPath() {
        let entry = "providers:\n  - name: process\n    library: /opt/lib/libProviderProcess.so\n"
        let cases: [(String, String, String)] = [
            (entry + "    threads: 0\n", "providers[0].threads", "must be at least 1 (got 0)"),
            (entry + "    limits: {cpu_seconds: -1}\n", "providers[0].limits.cpu_seconds", "must be at least 0 (got -1)"),
            (entry + "    restart_backoff_ms: 0\n", "providers[0].restart_backoff_ms", "must be at least 1"),
            ("max_provision_attempts: 0\n", "max_provision_attempts", "must be at least 1"),
            ("listen: localhost\n", "listen", "must be HOST:PORT"),
            ("listen: localhost:http\n", "listen", "must be HOST:PORT"),
        ]
        for (text, path, reason) in cases {
            let error = Self.error(text)
            guard case .invalidValue(_, let errorPath, let errorReason)? = error else {
                Issue.record("\(path): expected invalidValue, got \(String(describing: error))")
                continue
            }
            #expect(errorPath == path && errorReason.contains(reason), "\(String(describing: error))")
        }
        let missing = Self.error("providers:\n  - name: process\n")
        #expect(missing == .missingKey(file: Self.file(of: missing) ?? "?", path: "providers[0].library", expected: "a string"))
        guard case .duplicateKey(_, "sweepers.interval_ms")? = Self.error("sweepers:\n  interval_ms: 1\n  interval_ms: 2\n") else {
            Issue.record("a key given twice is refused")
            return
        }
    }

    @Test func unreadableAndMalformedFilesAreRefusedWithTheirName() {
        let missing = "/nonexistent/host-\(UUID().uuidString).yaml"
        #expect(throws: ConfigurationError.unreadable(file: missing, reason: "no such file")) {
            try HostConfiguration.load(path: missing, environment: [:], executableDirectory: "/opt")
        }
        let error = Self.error("listen: [unclosed\n")
        guard case .malformed(let file, let reason)? = error else {
            Issue.record("expected malformed, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("line") && !String(describing: error!).contains("\n") && String(describing: error!).contains(file))
    }

    @Test func environmentOverridesNameTheVariable() {
        #expect(throws: ConfigurationError.invalidEnvironment(variable: "PORT", value: "http", reason: "is not a port number (0-65535)")) {
            try Self.load("listen: 127.0.0.1:9000\n", environment: ["PORT": "http"])
        }
    }

    // MARK: Valid files

    @Test func theExampleFileDecodesToItsValues() throws {
        let configuration = try HostConfiguration.load(
            path: Self.root.appendingPathComponent("examples/host.yaml").path, environment: [:], executableDirectory: "/opt/molecule/bin")
        #expect(configuration.host == "127.0.0.1" && configuration.port == 8080)
        #expect(configuration.environment == .production)
        #expect(configuration.stateDirectory == ".molecule")
        #expect(configuration.platformURL == "http://127.0.0.1:8080")
        #expect(configuration.heartbeatFlushMs == 5)
        #expect(configuration.defaultProvider == "process" && configuration.allowedProviders == ["process"])
        #expect(configuration.maxProvisionAttempts == 3)
        #expect(configuration.databaseURL == nil && configuration.adminToken == nil)
        let expected = ProviderSpec(
            name: "process", library: ".build/debug/libProviderProcess.so",
            options: ["state_dir": .string(".molecule/process"), "owner": .string("my-host")], isolation: .process)
        #expect(configuration.providers == [expected])
    }

    static let full = """
        listen: 0.0.0.0:9090
        database_url: postgres://molecule@db/molecule
        admin_token: "12345"
        environment: development
        platform_url: https://host.example
        state_dir: /var/lib/molecule
        default_provider: docker
        allowed_providers: [process, docker]
        heartbeat_flush_ms: 20
        max_body_bytes: 2048
        max_upload_bytes: 4096
        enable_test_tokens: false
        database_pool_size: 3
        restart_stop_attempts: 5
        restart_backoff_ms: 250
        max_provision_attempts: 2
        sweepers:
          enabled: false
          interval_ms: 500
          provision_timeout_seconds: 120
          runtime_provision_timeouts: {slow: 1800}
          remote_stale_after_seconds: 30
          orphan_grace_seconds: 60
          orphan_dry_run: true
          restart_on_offline: true
        providers:
          - name: process
            library: /opt/lib/libProviderProcess.so
          - name: docker
            library: /opt/lib/libProviderDocker.so
            options:
              image: busybox
              tiers: {"1": {memory_mb: 512, cpus: 0.5}}
              tag: "42"
              privileged: false
              volumes: [a, 2]
            threads: 4
            timeout_seconds: 30
            isolation: in-process
            environment: {pass: [DOCKER_HOST, "AWS_*"], set: {LOG_LEVEL: info, WORKERS: 4, DEBUG: true}}
            limits: {address_space_mb: 1024, open_files: 256, cpu_seconds: 60}
            load_timeout_ms: 1000
            create_timeout_ms: 2000
            kill_grace_ms: 0
            restart_backoff_ms: 50
            max_restart_backoff_ms: 5000
            runner: /opt/bin/molecule-provider-runner
        """

    static let fullDocker = ProviderSpec(
        name: "docker", library: "/opt/lib/libProviderDocker.so",
        options: [
            "image": "busybox", "tiers": ["1": ["memory_mb": 512, "cpus": 0.5]], "tag": "42", "privileged": false, "volumes": ["a", 2],
        ],
        threads: 4, timeoutSeconds: 30, isolation: .inProcess, passEnvironment: ["DOCKER_HOST", "AWS_*"],
        setEnvironment: ["LOG_LEVEL": "info", "WORKERS": "4", "DEBUG": "true"], addressSpaceMB: 1024, openFiles: 256, cpuSeconds: 60,
        loadTimeoutMs: 1000, createTimeoutMs: 2000, killGraceMs: 0, restartBackoffMs: 50, maxRestartBackoffMs: 5000,
        runnerPath: "/opt/bin/molecule-provider-runner")

    static func expectFull(_ configuration: HostConfiguration, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(configuration.host == "0.0.0.0" && configuration.port == 9090, sourceLocation: sourceLocation)
        #expect(configuration.databaseURL == "postgres://molecule@db/molecule", sourceLocation: sourceLocation)
        #expect(configuration.adminToken == "12345", sourceLocation: sourceLocation)
        #expect(configuration.environment == .development, sourceLocation: sourceLocation)
        #expect(configuration.platformURL == "https://host.example", sourceLocation: sourceLocation)
        #expect(configuration.stateDirectory == "/var/lib/molecule", sourceLocation: sourceLocation)
        #expect(configuration.defaultProvider == "docker" && configuration.allowedProviders == ["process", "docker"], sourceLocation: sourceLocation)
        #expect(
            configuration.heartbeatFlushMs == 20 && configuration.maxBodyBytes == 2048 && configuration.maxUploadBytes == 4096,
            sourceLocation: sourceLocation)
        #expect(configuration.enableTestTokens == false && !configuration.testTokensEnabled, sourceLocation: sourceLocation)
        #expect(configuration.databasePoolSize == 3 && configuration.restartStopAttempts == 5, sourceLocation: sourceLocation)
        #expect(configuration.restartBackoffMs == 250 && configuration.maxProvisionAttempts == 2, sourceLocation: sourceLocation)
        let sweepers = configuration.sweepers
        #expect(!sweepers.enabled && sweepers.intervalMs == 500 && sweepers.defaultProvisionTimeoutSeconds == 120, sourceLocation: sourceLocation)
        #expect(
            sweepers.runtimeProvisionTimeouts == ["slow": 1800] && sweepers.provisionTimeout(runtime: "slow") == 1800, sourceLocation: sourceLocation)
        #expect(sweepers.remoteStaleAfterSeconds == 30 && sweepers.orphanGraceSeconds == 60, sourceLocation: sourceLocation)
        #expect(sweepers.orphanDryRun && sweepers.restartOnOffline && sweepers.provisionTimeoutOverride == nil, sourceLocation: sourceLocation)
        #expect(configuration.providers.count == 2, sourceLocation: sourceLocation)
        #expect(
            configuration.providers.first == ProviderSpec(name: "process", library: "/opt/lib/libProviderProcess.so"), sourceLocation: sourceLocation)
        #expect(configuration.providers.last == fullDocker, sourceLocation: sourceLocation)
    }

    @Test func aFullYAMLFileDecodesToEveryValue() throws {
        Self.expectFull(try Self.load(Self.full))
    }

    @Test func aJSONFileWorksAndIsAsStrict() throws {
        let json = """
            {
              "listen": "0.0.0.0:9090", "database_url": "postgres://molecule@db/molecule", "admin_token": "12345",
              "environment": "development", "platform_url": "https://host.example", "state_dir": "/var/lib/molecule",
              "default_provider": "docker", "allowed_providers": ["process", "docker"], "heartbeat_flush_ms": 20,
              "max_body_bytes": 2048, "max_upload_bytes": 4096, "enable_test_tokens": false, "database_pool_size": 3,
              "restart_stop_attempts": 5, "restart_backoff_ms": 250, "max_provision_attempts": 2,
              "sweepers": {
                "enabled": false, "interval_ms": 500, "provision_timeout_seconds": 120,
                "runtime_provision_timeouts": {"slow": 1800}, "remote_stale_after_seconds": 30,
                "orphan_grace_seconds": 60, "orphan_dry_run": true, "restart_on_offline": true
              },
              "providers": [
                {"name": "process", "library": "/opt/lib/libProviderProcess.so"},
                {
                  "name": "docker", "library": "/opt/lib/libProviderDocker.so",
                  "options": {
                    "image": "busybox", "tiers": {"1": {"memory_mb": 512, "cpus": 0.5}}, "tag": "42",
                    "privileged": false, "volumes": ["a", 2]
                  },
                  "threads": 4, "timeout_seconds": 30, "isolation": "in-process",
                  "environment": {"pass": ["DOCKER_HOST", "AWS_*"], "set": {"LOG_LEVEL": "info", "WORKERS": 4, "DEBUG": true}},
                  "limits": {"address_space_mb": 1024, "open_files": 256, "cpu_seconds": 60},
                  "load_timeout_ms": 1000, "create_timeout_ms": 2000, "kill_grace_ms": 0, "restart_backoff_ms": 50,
                  "max_restart_backoff_ms": 5000, "runner": "/opt/bin/molecule-provider-runner"
                }
              ]
            }
            """
        Self.expectFull(try Self.load(json, extension: "json"))
        Self.expectWrongType(#"{"heartbeat_flush_ms": "5"}"#, path: "heartbeat_flush_ms", expected: "a whole number", extension: "json")
        Self.expectWrongType(#"{"sweepers": {"interval_ms": true}}"#, path: "sweepers.interval_ms", expected: "a whole number", extension: "json")
        Self.expectWrongType(#"{"database_url": 5}"#, path: "database_url", expected: "a string", extension: "json")
    }

    @Test func anchorsMergeKeysAndQuotedScalarsKeepTheirMeaning() throws {
        let configuration = try Self.load(
            """
            database_url: "5"
            providers:
              - &base
                name: process
                library: /opt/lib/libProviderProcess.so
                limits: {open_files: 64}
                options: {count: 0x10, quoted: "true", flag: yes, empty: null, when: 2024-01-02}
              - <<: *base
                name: second
            """)
        #expect(configuration.databaseURL == "5")
        let options: JSONValue = ["count": 16, "quoted": "true", "flag": true, "when": "2024-01-02"]
        #expect(configuration.providers.map(\.name) == ["process", "second"])
        #expect(configuration.providers.allSatisfy { $0.openFiles == 64 && $0.options == options })
        // An empty value is null (left out of options, the default elsewhere), whatever follows it.
        let empty = try Self.load("admin_token:\nproviders:\n  - name: p\n    library: l\n    options:\n      a:\n      b: x\n    threads:\n")
        #expect(empty.adminToken == nil && empty.providers.first?.options == ["b": "x"] && empty.providers.first?.threads == 16)
        // An unknown key is refused after a merge too.
        guard case .unknownKey(_, "providers[1].nmae", _)? = Self.error("providers:\n  - &b {name: a, library: l}\n  - {<<: *b, nmae: c}\n") else {
            Issue.record("an unknown key next to a merge key is refused")
            return
        }
    }

    @Test func defaultsAndEnvironmentOverridesStillApply() throws {
        let configuration = try Self.load(
            "listen: 127.0.0.1:9000\nadmin_token:\nstate_dir: /srv/molecule\n",
            environment: ["PORT": "9100", "ADMIN_TOKEN": "secret", "MOLECULE_ENV": "dev", "PROVISION_TIMEOUT_SECONDS": "30"])
        #expect(configuration.host == "127.0.0.1" && configuration.port == 9100)
        #expect(configuration.adminToken == "secret" && configuration.environment == .development)
        #expect(configuration.sweepers.provisionTimeoutOverride == 30 && configuration.sweepers.intervalMs == 15_000)
        #expect(configuration.heartbeatFlushMs == 5 && configuration.maxProvisionAttempts == 3)
        #expect(
            configuration.providers == [
                ProviderSpec(
                    name: "process", library: "/opt/molecule/bin/libProviderProcess.so", options: ["state_dir": "/srv/molecule/process"])
            ])
    }
}
