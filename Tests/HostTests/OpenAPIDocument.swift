import Yams

/// Reads the operations (`method path`) an OpenAPI document declares.
enum OpenAPIDocument {
    static func operations(in yaml: String) -> Set<String> {
        guard let root = (try? Yams.load(yaml: yaml)) as? [String: Any], let paths = root["paths"] as? [String: Any] else { return [] }
        var operations: Set<String> = []
        for (path, item) in paths {
            guard let item = item as? [String: Any] else { continue }
            for method in ["get", "put", "post", "delete", "patch"] where item[method] != nil { operations.insert("\(method) \(path)") }
        }
        return operations
    }
}
