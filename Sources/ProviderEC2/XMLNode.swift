import Foundation
import ProviderWire

#if canImport(FoundationXML)
import FoundationXML
#endif

/// An XML element as a small tree: what the EC2 Query API answers, parsed with Foundation's `XMLParser`.
struct XMLNode: Sendable {
    var name: String
    var text: String
    var children: [XMLNode]

    /// The first child named `name`.
    func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }

    /// The node at `path` of child names.
    func at(_ path: String...) -> XMLNode? {
        var node: XMLNode? = self
        for name in path { node = node?.child(name) }
        return node
    }

    /// The trimmed text of the child at `path`, nil when absent or empty.
    func value(_ path: String...) -> String? {
        var node: XMLNode? = self
        for name in path { node = node?.child(name) }
        let text = node?.text.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return text.isEmpty ? nil : text
    }

    /// The `<item>` children of the child named `name` (EC2's list shape).
    func items(_ name: String) -> [XMLNode] { child(name)?.children.filter { $0.name == "item" } ?? [] }

    /// EC2 `tagSet` as a dictionary.
    var tags: [String: String] {
        var tags: [String: String] = [:]
        for item in items("tagSet") { if let key = item.value("key") { tags[key] = item.value("value") ?? "" } }
        return tags
    }

    /// Parses a whole document; a body that is not well-formed XML is INTERNAL with an excerpt.
    static func parse(_ bytes: [UInt8], what: String) throws(ProviderError) -> XMLNode {
        let builder = TreeBuilder()
        let parser = XMLParser(data: Data(bytes))
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else {
            let excerpt = String(decoding: bytes.prefix(200), as: UTF8.self)
            throw .internal("\(what): the answer is not well-formed XML: \(excerpt)")
        }
        return root
    }
}

/// Builds an ``XMLNode`` tree from parser events.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    var stack: [XMLNode] = []
    var root: XMLNode?

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        stack.append(XMLNode(name: elementName, text: "", children: []))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        guard let node = stack.popLast() else { return }
        if stack.isEmpty { root = node } else { stack[stack.count - 1].children.append(node) }
    }
}
