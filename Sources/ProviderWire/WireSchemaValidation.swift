extension WireSchema {
    /// The ways `value` breaks this schema, each as `<JSON pointer>: <problem>`
    /// (`/stages/0/duration_ms: expected integer, got string`); empty when it conforms.
    ///
    /// Checks type, `enum`, `required`, `properties`, `items` and `additionalProperties` (only when `false` or a
    /// schema: other members are allowed). A value of the wrong type is not looked into.
    public func validate(_ value: JSONValue) -> [String] {
        var problems: [String] = []
        check(value, at: [], into: &problems)
        return problems
    }

    private func check(_ value: JSONValue, at path: [String], into problems: inout [String]) {
        func report(_ text: String, at path: [String]) { problems.append("\(Self.pointer(path)): \(text)") }
        if value == .null, nullable { return }
        if let type, !Self.value(value, is: type) {
            report("expected \(type.rawValue)\(nullable ? " or null" : ""), got \(Self.typeName(of: value))", at: path)
            return
        }
        if let enumValues, !enumValues.contains(value.stringValue ?? "\u{0}") {
            let shown = value.stringValue.map { "\"\($0)\"" } ?? Self.typeName(of: value)
            report("\(shown) is not one of \(enumValues.map { "\"\($0)\"" }.joined(separator: ", "))", at: path)
        }
        switch value {
        case .array(let elements):
            guard let items else { return }
            for (index, element) in elements.enumerated() { items.check(element, at: path + [String(index)], into: &problems) }
        case .object(let members):
            for key in required where members[key] == nil { report("missing required property", at: path + [key]) }
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                if let schema = properties[key] {
                    schema.check(member, at: path + [key], into: &problems)
                } else if case .schema(let schema)? = additionalProperties {
                    schema.check(member, at: path + [key], into: &problems)
                } else if case .allowed(false)? = additionalProperties {
                    report("unexpected property", at: path + [key])
                }
            }
        default:
            return
        }
    }

    private static func value(_ value: JSONValue, is type: JSONType) -> Bool {
        switch (type, value) {
        case (.object, .object), (.array, .array), (.string, .string), (.number, .number), (.boolean, .bool), (.null, .null): true
        case (.integer, .number(let number)): number.isFinite && number == number.rounded()
        default: false
        }
    }

    private static func typeName(of value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
