import Crypto
import Foundation
import Testing

/// The C header is the contract: its bytes are pinned, per ABI version, in `Sources/ProviderABI/abi-lock.json`.
@Suite struct ABITripwireTests {
    static let headerPath = TestSupport.repositoryRoot.appendingPathComponent("Sources/ProviderABI/include/molecule_provider.h")
    static let lockPath = TestSupport.repositoryRoot.appendingPathComponent("Sources/ProviderABI/abi-lock.json")

    static let frozen10Path = TestSupport.repositoryRoot.appendingPathComponent("Tests/Fixtures/abi-1.0/molecule_provider.h")

    /// The value of `#define NAME Nu` in `header`.
    static func define(_ name: String, in header: String) -> Int? {
        guard let line = header.split(separator: "\n").first(where: { $0.hasPrefix("#define \(name) ") }) else { return nil }
        return Int(
            line.dropFirst("#define \(name) ".count).trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "uU")))
    }

    /// "MAJOR.MINOR" of `header` (a header without MP_ABI_MINOR is minor 0, as 1.0's was).
    static func version(of header: String) -> String? {
        guard let major = define("MP_ABI_VERSION", in: header) else { return nil }
        return "\(major).\(define("MP_ABI_MINOR", in: header) ?? 0)"
    }

    static func digest(_ header: String) -> String { SHA256.hash(data: Data(header.utf8)).map { String(format: "%02x", $0) }.joined() }

    /// Returns why `header` does not match `lock`, or nil when it does.
    static func problem(header: String, lock: [String: String]) -> String? {
        guard let version = version(of: header) else { return "the header has no #define MP_ABI_VERSION" }
        let digest = digest(header)
        guard let pinned = lock[version] else {
            return "ABI version \(version) has no pinned hash; add \"\(version)\": \"\(digest)\" to abi-lock.json"
        }
        if pinned != digest {
            return "molecule_provider.h changed (sha256 \(digest)) but its version is still \(version) (pinned \(pinned)): "
                + "bump MP_ABI_MINOR for an append (MP_ABI_VERSION otherwise) and pin the new hash, or revert the header"
        }
        return nil
    }

    static func lock() throws -> [String: String] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: lockPath)) as? [String: Any]
        return object?["versions"] as? [String: String] ?? [:]
    }

    @Test func headerMatchesThePinnedHashForItsVersion() throws {
        let header = try String(contentsOf: Self.headerPath, encoding: .utf8)
        let problem = Self.problem(header: header, lock: try Self.lock())
        #expect(problem == nil, "\(problem ?? "")")
    }

    @Test func anEditWithoutAVersionBumpIsCaught() throws {
        let header = try String(contentsOf: Self.headerPath, encoding: .utf8)
        let edited = header.replacingOccurrences(of: "MP_VERB_COUNT = 25", with: "MP_VERB_COUNT = 26")
        #expect(edited != header)
        let problem = try #require(Self.problem(header: edited, lock: try Self.lock()))
        #expect(problem.contains("bump MP_ABI_MINOR"))
    }

    @Test func aBumpWithoutAPinIsCaught() throws {
        let header = try String(contentsOf: Self.headerPath, encoding: .utf8)
        let bumped = header.replacingOccurrences(of: "#define MP_ABI_MINOR 1u", with: "#define MP_ABI_MINOR 2u")
        #expect(bumped != header)
        let problem = try #require(Self.problem(header: bumped, lock: try Self.lock()))
        #expect(problem.contains("1.2 has no pinned hash"))
    }

    /// The 1.0 pin stays: the frozen copy the compatibility fixture is built from is byte for byte the 1.0 header.
    @Test func theFrozen10HeaderMatchesIts10Pin() throws {
        let frozen = try String(contentsOf: Self.frozen10Path, encoding: .utf8)
        #expect(Self.version(of: frozen) == "1.0")
        #expect(Self.problem(header: frozen, lock: try Self.lock()) == nil)
        #expect(try Self.lock()["1.0"] == Self.digest(frozen))
    }
}
