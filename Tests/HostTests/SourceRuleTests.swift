import Foundation
import HostStore
import Testing

/// Rules the code must keep, checked on the source text. Each rule is a function over text, and each has a test that
/// feeds it a violation, so the rule is shown to fail when broken.
@Suite struct SourceRuleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func swiftFiles(under folders: [String]) -> [(path: String, text: String)] {
        folders.flatMap { folder -> [(String, String)] in
            let base = root.appendingPathComponent(folder)
            let enumerator = FileManager.default.enumerator(atPath: base.path)
            var files: [(String, String)] = []
            while let relative = enumerator?.nextObject() as? String {
                guard relative.hasSuffix(".swift"), let text = try? String(contentsOf: base.appendingPathComponent(relative), encoding: .utf8) else {
                    continue
                }
                files.append(("\(folder)/\(relative)", text))
            }
            return files
        }
    }

    // MARK: Status enum drift

    /// The values of `workspace_status` after applying every migration (CREATE TYPE … ENUM, ALTER TYPE … ADD VALUE).
    static func enumValues(in migrations: [String]) -> Set<String> {
        var values: Set<String> = []
        for sql in migrations {
            if let range = sql.range(of: #"CREATE TYPE workspace_status AS ENUM \(([^)]*)\)"#, options: .regularExpression) {
                let body = sql[range]
                for match in body.matches(of: /'([a-z_]+)'/) { values.insert(String(match.1)) }
            }
            for match in sql.matches(of: /ALTER TYPE workspace_status ADD VALUE (?:IF NOT EXISTS )?'([a-z_]+)'/) {
                values.insert(String(match.1))
            }
        }
        return values
    }

    static func migrations() throws -> [String] {
        let directory = root.appendingPathComponent("Sources/HostStore/Resources/migrations")
        return try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }.sorted().map {
            try String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8)
        }
    }

    @Test func swiftStatusEnumEqualsThePostgresEnum() throws {
        let database = Self.enumValues(in: try Self.migrations())
        let swift = Set(WorkspaceStatus.allCases.map(\.rawValue))
        #expect(database == swift, "only in SQL: \(database.subtracting(swift).sorted()); only in Swift: \(swift.subtracting(database).sorted())")
        #expect(database.count == 11)
    }

    @Test func enumDriftIsDetected() throws {
        var migrations = try Self.migrations()
        migrations.append("ALTER TYPE workspace_status ADD VALUE 'zombie';")
        #expect(Self.enumValues(in: migrations) != Set(WorkspaceStatus.allCases.map(\.rawValue)))
    }

    // MARK: Failed needs a message

    /// SQL literals that write status 'failed' without setting last_sample_error.
    static func failedWithoutMessage(_ source: String) -> [String] {
        source.components(separatedBy: "\"\"\"").enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
            .filter { $0.contains("status = 'failed'") && !$0.contains("last_sample_error") }
    }

    @Test func everyWriteOfFailedSetsTheMessage() {
        let offenders = Self.swiftFiles(under: ["Sources"]).flatMap { file in Self.failedWithoutMessage(file.text).map { "\(file.path): \($0)" } }
        #expect(offenders.isEmpty, "\(offenders)")
        // Swift-side status changes to failed go through markFailed (transition() refuses .failed).
        let bypass = Self.swiftFiles(under: ["Sources"]).filter { $0.text.contains("transition(") && $0.text.contains("to: .failed") }
        #expect(bypass.isEmpty, "\(bypass.map(\.path))")
    }

    @Test func failedWithoutMessageIsDetected() {
        let source = "try connection.query(\n\"\"\"\nUPDATE workspaces SET status = 'failed' WHERE id = $1\n\"\"\")"
        #expect(Self.failedWithoutMessage(source).count == 1)
    }

    // MARK: Parameterized SQL only

    /// Places where SQL could be built from values: interpolation in a statement literal, or raw libpq execution
    /// outside the connection type.
    static func unparameterizedSQL(path: String, text: String) -> [String] {
        var problems: [String] = []
        let literals = text.components(separatedBy: "\"\"\"").enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
        for literal in literals where literal.range(of: #"\b(SELECT|UPDATE|INSERT|DELETE)\b"#, options: .regularExpression) != nil {
            if literal.contains("\\(") { problems.append("\(path): interpolation inside SQL") }
        }
        for line in text.split(separator: "\n") where line.contains(".query(\"") && line.contains("\\(") {
            problems.append("\(path): interpolation inside SQL: \(line.trimmingCharacters(in: .whitespaces))")
        }
        if !path.hasSuffix("PostgresConnection.swift") && (text.contains("PQexec(") || text.contains("PQexecParams(")) {
            problems.append("\(path): calls libpq directly")
        }
        if !path.hasSuffix("PostgresConnection.swift") && !path.hasSuffix("Migrator.swift") && text.contains("executeScript(") {
            problems.append("\(path): runs unparameterized SQL")
        }
        return problems
    }

    @Test func sqlIsParameterizedEverywhere() {
        let problems = Self.swiftFiles(under: ["Sources"]).flatMap { Self.unparameterizedSQL(path: $0.path, text: $0.text) }
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test func interpolatedSQLIsDetected() {
        let source = "try connection.query(\"SELECT * FROM workspaces WHERE name = '\\(name)'\")"
        #expect(!Self.unparameterizedSQL(path: "Sources/X/Bad.swift", text: source).isEmpty)
        #expect(!Self.unparameterizedSQL(path: "Sources/X/Bad.swift", text: "PQexec(handle, sql)").isEmpty)
    }

    // MARK: Dispatcher is the only door to providers

    static let providerAccessAllowed = [
        "Sources/ProviderHost/", "Sources/HostDispatch/", "Sources/ContractSuite/", "Sources/Host/Commands/ContractCommand.swift",
        "Sources/Host/Commands/ProvidersCommand.swift", "Benchmarks/",
        // The provider kit's templates: the text of provider projects `providers new` writes, not Host code.
        "Sources/Host/Scaffold/ScaffoldTemplates.swift",
    ]

    /// Files outside the dispatcher (and the provider tools) that import the loader or touch provider instances.
    static func providerBypass(path: String, text: String) -> Bool {
        guard !providerAccessAllowed.contains(where: { path.hasPrefix($0) }) else { return false }
        return text.contains("import ProviderHost") || text.contains("ProviderInstance") || text.contains("ProviderLibrary")
            || text.contains("mp_vtable") || text.contains("import ProviderABI")
    }

    @Test func onlyTheDispatcherReachesProviders() {
        // The Host's server modules; providers and the SDK speak the ABI by design.
        let host = Self.swiftFiles(under: ["Sources/Host", "Sources/HostAPI", "Sources/HostStore", "Sources/HostDispatch"])
        #expect(host.count > 20)
        let offenders = host.filter { Self.providerBypass(path: $0.path, text: $0.text) }.map(\.path)
        #expect(offenders.isEmpty, "\(offenders)")
    }

    @Test func aBypassIsDetected() {
        #expect(Self.providerBypass(path: "Sources/HostAPI/HTTP/Sneaky.swift", text: "import ProviderHost\nlet x: ProviderInstance"))
        #expect(!Self.providerBypass(path: "Sources/HostDispatch/Dispatcher.swift", text: "import ProviderHost"))
    }

    // MARK: One writer of status

    static let lifecycleStore = "Sources/HostStore/Lifecycle/WorkspaceStore+Lifecycle.swift"
    static let lifecycleFolder = "Sources/HostDispatch/Lifecycle/"

    /// The SET clauses of `UPDATE workspaces` statements in `text` that assign `status`.
    static func statusWrites(_ text: String) -> [String] {
        text.matches(of: /(?s)UPDATE\s+workspaces\b(.*?)(?:WHERE|""")/).map { String($0.1) }
            .filter { $0.contains(/(?:SET|,)\s*status\s*=/) }
    }

    /// Files outside the lifecycle store that write status, and callers of the lifecycle store outside the lifecycle.
    static func lifecycleBypasses(_ files: [(path: String, text: String)]) -> [String] {
        let store = files.first { $0.path == lifecycleStore }?.text ?? ""
        let functions = Set(store.matches(of: /public func (\w+)\(/).map { String($0.1) }).sorted()
        var offenders: [String] = []
        for file in files where file.path != lifecycleStore {
            if !statusWrites(file.text).isEmpty { offenders.append("\(file.path): writes status") }
            guard !file.path.hasPrefix(lifecycleFolder) else { continue }
            for function in functions where file.text.contains(".\(function)(") { offenders.append("\(file.path): calls \(function)") }
        }
        return offenders
    }

    @Test func onlyTheLifecycleWritesStatus() {
        let files = Self.swiftFiles(under: ["Sources"])
        let store = files.first { $0.path == Self.lifecycleStore }
        // The lifecycle store holds the status writes (the guarded move, remove, register, heartbeats) …
        #expect(Self.statusWrites(store?.text ?? "").count >= 4)
        // … and nothing else writes status or calls them but the lifecycle.
        let offenders = Self.lifecycleBypasses(files)
        #expect(offenders.isEmpty, "\(offenders)")
    }

    @Test func aStatusWriteOutsideTheLifecycleIsDetected() {
        let files = Self.swiftFiles(under: ["Sources"])
        let sneaky = "try connection.query(\n\"\"\"\nUPDATE workspaces SET url = $2,\n status = 'online' WHERE id = $1\n\"\"\")"
        #expect(
            Self.lifecycleBypasses(files + [("Sources/HostStore/Store/Sneaky.swift", sneaky)]) == [
                "Sources/HostStore/Store/Sneaky.swift: writes status"
            ])
        let caller = "func f() async throws { _ = try await store.moveStatus(id, by: .pause) }"
        #expect(
            Self.lifecycleBypasses(files + [("Sources/HostAPI/HTTP/Sneaky.swift", caller)]) == ["Sources/HostAPI/HTTP/Sneaky.swift: calls moveStatus"]
        )
        // A guard in a WHERE is not a write.
        #expect(Self.statusWrites("UPDATE workspaces SET url = $2 WHERE id = $1 AND status = 'online'").isEmpty)
    }
}
