import Crypto
import Foundation
import Testing

/// The C header is the contract: its bytes are pinned, per ABI version, in `Sources/ProviderABI/abi-lock.json`.
@Suite struct ABITripwireTests {
    static let headerPath = TestSupport.repositoryRoot.appendingPathComponent("Sources/ProviderABI/include/molecule_provider.h")
    static let lockPath = TestSupport.repositoryRoot.appendingPathComponent("Sources/ProviderABI/abi-lock.json")

    /// Returns why `header` does not match `lock`, or nil when it does.
    static func problem(header: String, lock: [String: String]) -> String? {
        guard let line = header.split(separator: "\n").first(where: { $0.hasPrefix("#define MP_ABI_VERSION ") }),
            let version = Int(
                line.dropFirst("#define MP_ABI_VERSION ".count).trimmingCharacters(in: .whitespaces).trimmingCharacters(
                    in: CharacterSet(charactersIn: "uU")))
        else { return "the header has no #define MP_ABI_VERSION" }
        let digest = SHA256.hash(data: Data(header.utf8)).map { String(format: "%02x", $0) }.joined()
        guard let pinned = lock["\(version)"] else {
            return "ABI version \(version) has no pinned hash; add \"\(version)\": \"\(digest)\" to abi-lock.json"
        }
        if pinned != digest {
            return "molecule_provider.h changed (sha256 \(digest)) but MP_ABI_VERSION is still \(version) (pinned \(pinned)): "
                + "bump MP_ABI_VERSION and pin the new hash, or revert the header"
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
        let edited = header.replacingOccurrences(of: "MP_VERB_COUNT = 19", with: "MP_VERB_COUNT = 20")
        #expect(edited != header)
        let problem = try #require(Self.problem(header: edited, lock: try Self.lock()))
        #expect(problem.contains("bump MP_ABI_VERSION"))
    }

    @Test func aBumpWithoutAPinIsCaught() throws {
        let header = try String(contentsOf: Self.headerPath, encoding: .utf8)
        let bumped = header.replacingOccurrences(of: "#define MP_ABI_VERSION 1u", with: "#define MP_ABI_VERSION 2u")
        let problem = try #require(Self.problem(header: bumped, lock: try Self.lock()))
        #expect(problem.contains("has no pinned hash"))
    }
}
