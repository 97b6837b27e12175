import Foundation
import ProviderWire
import Testing

/// Encodes a wire value the way `WireCoding` does and reads it back as a `JSONValue`.
private func json(_ value: some Encodable) throws -> JSONValue {
    try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
}

private func parse(_ text: String) throws -> JSONValue {
    try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
}

@Suite struct DerivationTests {
    @Test func provisionRequest() throws {
        let schema = try WireSchema.derive(ProvisionRequest.self)
        #expect(schema.type == .object)
        #expect(schema.required == ["workspace_id"])
        #expect(
            Set(schema.properties.keys) == [
                "workspace_id", "name", "runtime", "tier", "image", "command", "env", "token", "platform_url", "snapshot_id",
                "options", "seed_archive",
            ])
        #expect(schema.properties["workspace_id"] == WireSchema(type: .string))
        #expect(schema.properties["tier"] == WireSchema(type: .integer, nullable: true))
        #expect(schema.properties["command"] == WireSchema(type: .array, nullable: true, items: WireSchema(type: .string)))
        #expect(schema.properties["env"] == WireSchema(type: .object, nullable: true, additionalProperties: .schema(WireSchema(type: .string))))
        #expect(schema.properties["options"] == WireSchema(nullable: true))
        #expect(schema.properties["options"]?.jsonValue == [:])
    }

    @Test func inspectResponseEnum() throws {
        let schema = try WireSchema.derive(InspectResponse.self)
        #expect(schema.required == ["state"])
        #expect(schema.properties["state"] == WireSchema(type: .string, enumValues: ["starting", "running", "paused", "stopped", "absent"]))
        #expect(schema.properties["instance_ref"]?.type == .string)
        #expect(schema.properties["instance_ref"]?.nullable == true)
    }

    @Test func nestedArrays() throws {
        let files = try WireSchema.derive(ListFilesResponse.self)
        #expect(files.required == ["files"])
        let entry = try #require(files.properties["files"]?.items)
        #expect(entry.required == ["path", "size", "dir"])
        #expect(entry.properties["size"]?.type == .integer)
        #expect(entry.properties["dir"]?.type == .boolean)

        let diagnose = try WireSchema.derive(DiagnoseResponse.self)
        #expect(diagnose.required == ["ok", "stages"])
        let stage = try #require(diagnose.properties["stages"]?.items)
        #expect(stage.required == ["name", "ok", "duration_ms"])
        #expect(stage.properties["error"] == WireSchema(type: .string, nullable: true))
    }

    @Test func dictionariesAndNestedStructs() throws {
        let schema = try WireSchema.derive(ProviderManifest.self)
        #expect(schema.required == ["name", "version", "abi", "verbs"])
        #expect(
            schema.properties["abi"]
                == WireSchema(
                    type: .object,
                    properties: ["min": .init(type: .integer), "max": .init(type: .integer), "minor": .init(type: .integer, nullable: true)],
                    required: ["min", "max"]))
        let claim = WireSchema(type: .object, properties: ["contract": .init(type: .integer)], required: ["contract"])
        #expect(schema.properties["verbs"] == WireSchema(type: .object, additionalProperties: .schema(claim)))
        #expect(schema.properties["unsupported"]?.additionalProperties == .schema(WireSchema(type: .string)))
    }

    @Test func listedEnumAndOptionalEnum() throws {
        let schema = try WireSchema.derive(ListOwnedResponse.self)
        let resource = try #require(schema.properties["resources"]?.items)
        #expect(resource.properties["kind"]?.enumValues == ["instance", "storage", "snapshot"])
        #expect(resource.properties["state"]?.nullable == true)
        #expect(resource.properties["state"]?.enumValues?.count == 5)
        #expect(resource.required == ["workspace_id", "kind", "ref", "owner", "created_at_ms"])
    }

    @Test func stableJSONText() throws {
        let text = try WireSchema.derive(InspectResponse.self).jsonText()
        #expect(
            text == #"{"properties":{"address":{"type":["string","null"]},"ended":{"type":["string","null"]},"#
                + #""failure":{"type":["string","null"]},"instance_ref":{"type":["string","null"]},"#
                + #""state":{"enum":["starting","running","paused","stopped","absent"],"type":"string"}},"#
                + #""required":["state"],"type":"object"}"#)
        #expect(try WireSchema.derive(InspectResponse.self).jsonText() == text)
    }

    struct Picky: Decodable {
        var name: String
        var port: Int
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            port = try c.decode(Int.self, forKey: .port)
            guard !name.isEmpty, (1...65535).contains(port) else {
                throw DecodingError.dataCorruptedError(forKey: .port, in: c, debugDescription: "bad")
            }
        }
        enum CodingKeys: String, CodingKey { case name, port }
    }

    struct Refuses: Decodable {
        enum Mode: String, Decodable { case fast, slow }
        var mode: Mode
    }

    struct Wrapper: Decodable { var inner: [Refuses] }

    @Test func validatingInitsAndClearErrors() throws {
        #expect(try WireSchema.derive(Picky.self).required == ["name", "port"])
        do {
            _ = try WireSchema.derive(Wrapper.self)
            Issue.record("derivation should fail")
        } catch {
            #expect(error.typeName.hasSuffix("Refuses.Mode"))
            #expect(error.path == "/inner/0/mode")
            #expect(error.description.contains("cannot derive a JSON schema for"))
        }
    }

    final class Tree: Decodable {
        var name: String
        var children: [Tree]
        var parent: Tree?
    }

    struct Loop: Decodable {
        final class Box: Decodable { var next: Loop }
        var box: Box
    }

    @Test func recursiveTypesEnd() throws {
        let schema = try WireSchema.derive(Tree.self, maxDepth: 4)
        #expect(schema.required == ["name", "children"])
        // Each array and each element is one level: at depth 4 the second `children` is cut to "any element".
        let child = try #require(schema.properties["children"]?.items)
        #expect(child.required == ["name", "children"])
        #expect(child.properties["children"] == WireSchema(type: .array))
        #expect(
            child.properties["parent"]
                == WireSchema(
                    type: .object, nullable: true,
                    properties: [
                        "name": .init(type: .string), "children": .init(type: .array), "parent": .init(nullable: true),
                    ], required: ["name", "children"]))
        #expect(throws: WireSchemaError.self) { try WireSchema.derive(Loop.self, maxDepth: 4) }
    }

    struct Color: Decodable, WireSchemaDescribing {
        var hex: String
        init(from decoder: any Decoder) throws { throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "never")) }
        init(hex: String) { self.hex = hex }
        static var wireSchema: WireSchema { WireSchema(type: .string, description: "#rrggbb") }
        static var wireSchemaPlaceholder: Color? { Color(hex: "#000000") }
    }
    struct Theme: Decodable {
        var fg: Color
        var bg: Color?
    }

    struct Slotted: Decodable {
        enum Slot: UInt32, Decodable, CaseIterable {
            case seven = 7
            case nine = 9
        }
        var slot: Slot
    }
    /// Swift encodes a dictionary with non-string keys as a flat `[key, value, …]` array: not derivable.
    struct PairKeyed: Decodable { var slots: [Slotted.Slot: Int]? }

    @Test func integerRawEnumsDecodeTheirFirstCase() throws {
        let schema = try WireSchema.derive(Slotted.self)
        #expect(schema.properties["slot"] == WireSchema(type: .integer))
        let error = try #require(throws: WireSchemaError.self) { try WireSchema.derive(PairKeyed.self) }
        #expect(error.path == "/slots" && error.typeName.hasPrefix("Swift.Dictionary"))
    }

    @Test func escapeHatch() throws {
        let schema = try WireSchema.derive(Theme.self)
        #expect(schema.properties["fg"] == WireSchema(type: .string, description: "#rrggbb"))
        #expect(schema.properties["bg"] == WireSchema(type: .string, nullable: true, description: "#rrggbb"))
        #expect(schema.required == ["fg"])
    }
}

@Suite struct ValidationTests {
    @Test func acceptsRealValues() throws {
        let request = ProvisionRequest(workspaceId: "ws-1", tier: 2, command: ["sh", "-c", "true"], env: ["A": "b"], options: ["k": [1, "x"]])
        #expect(try WireSchema.derive(ProvisionRequest.self).validate(json(request)) == [])
        let diagnose = DiagnoseResponse(stages: [.init(name: "a", ok: true, durationMs: 3), .init(name: "b", ok: false, durationMs: 1, error: "e")])
        #expect(try WireSchema.derive(DiagnoseResponse.self).validate(json(diagnose)) == [])
        let inspect = InspectResponse(state: .paused, instanceRef: "i-1")
        #expect(try WireSchema.derive(InspectResponse.self).validate(json(inspect)) == [])
        // Optional fields may be null, and unknown members are allowed.
        #expect(try WireSchema.derive(InspectResponse.self).validate(parse(#"{"state":"absent","address":null,"extra":1}"#)) == [])
    }

    @Test func reportsProblemsWithPaths() throws {
        let diagnose = try WireSchema.derive(DiagnoseResponse.self)
        let value = try parse(#"{"ok":"yes","stages":[{"name":"a","ok":true,"duration_ms":1},{"name":"b","duration_ms":"5","error":3}]}"#)
        #expect(
            diagnose.validate(value) == [
                "/ok: expected boolean, got string",
                "/stages/1/ok: missing required property",
                "/stages/1/duration_ms: expected integer, got string",
                "/stages/1/error: expected string or null, got number",
            ])
        #expect(
            diagnose.validate(try parse(#"{"ok":true,"stages":[{"name":"a","ok":true,"duration_ms":1.5}]}"#))
                == ["/stages/0/duration_ms: expected integer, got number"])
        #expect(diagnose.validate([]) == ["/: expected object, got array"])
    }

    @Test func enumsDictionariesAndClosedObjects() throws {
        let inspect = try WireSchema.derive(InspectResponse.self)
        #expect(inspect.validate(["state": "gone"]) == [#"/state: "gone" is not one of "starting", "running", "paused", "stopped", "absent""#])
        #expect(inspect.validate([:]) == ["/state: missing required property"])

        let request = try WireSchema.derive(ProvisionRequest.self)
        #expect(
            request.validate(["workspace_id": "w", "env": ["A": 1, "a/b": "ok"], "command": ["x", true]]) == [
                "/command/1: expected string, got boolean",
                "/env/A: expected string, got number",
            ])

        var closed = try WireSchema.derive(FileEntry.self)
        closed.additionalProperties = .allowed(false)
        #expect(closed.validate(["path": "p", "size": 1, "dir": false, "x~y": 1]) == ["/x~0y: unexpected property"])
        #expect(closed.jsonValue["additionalProperties"] == false)
    }
}

/// Every verb's schemas derive (the committed docs/schemas are these), and describe's empty request is an object.
@Test func everyVerbHasSchemasAndDescribeTakesAnObject() throws {
    for verb in Verb.allCases {
        #expect(WireSchemas.request(of: verb).type == .object, "\(verb) request")
        #expect(WireSchemas.response(of: verb).type == .object, "\(verb) response")
    }
    #expect(WireSchemas.request(of: .describe).validate("x") == ["/: expected object, got string"])
    #expect(throws: DecodingError.self) { try JSONDecoder().decode(EmptyRequest.self, from: Data("5".utf8)) }
}

/// docs/schemas holds exactly what `molecule-host schemas` writes (UPDATE_SCHEMAS=1 rewrites it).
@Test func committedSchemasAreTheGeneratedOnes() throws {
    let directory = TestSupport.repositoryRoot.appendingPathComponent("docs/schemas")
    for verb in Verb.allCases {
        for response in [false, true] {
            let file = directory.appendingPathComponent("\(verb.wireName).\(response ? "response" : "request").json")
            let text = WireSchemas.document(of: verb, response: response)
            if ProcessInfo.processInfo.environment["UPDATE_SCHEMAS"] == "1" {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                try Data(text.utf8).write(to: file)
                continue
            }
            #expect((try? String(contentsOf: file, encoding: .utf8)) == text, "\(file.path) is stale: run `molecule-host schemas` and commit")
        }
    }
}
