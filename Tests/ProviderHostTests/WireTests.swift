import ContractSuite
import Foundation
import ProviderHost
import ProviderWire
import Testing

/// Pure logic: paths, tar, manifests, configuration expansion, the ELF note reader.
@Suite struct WireTests {
    @Test(arguments: ["../x", "/etc/passwd", "a/../../b", "a\\b", "", "a\u{0}b"])
    func unsafePathsAreRefused(_ raw: String) {
        #expect(throws: ProviderError.self) { try RelativePath(raw) }
    }

    @Test func pathsAreNormalised() throws {
        #expect(try RelativePath("./a//b/./c/").string == "a/b/c")
        #expect(try RelativePath("", allowRoot: true).isRoot)
    }

    @Test func tarRoundTripsFilesDirectoriesAndLongNames() throws {
        let long = String(repeating: "d", count: 120) + "/file.bin"
        let archive = TarArchive(entries: [
            .init(path: try RelativePath("dir"), kind: .directory, mode: 0o755),
            .init(path: try RelativePath("dir/a.txt"), kind: .file, mode: 0o640, contents: Array("hello".utf8)),
            .init(path: try RelativePath(long), kind: .file, mode: 0o600, contents: (0..<1000).map { UInt8($0 % 256) }),
        ])
        let parsed = try TarArchive(parsing: archive.serialized())
        #expect(parsed.entries == archive.entries)
    }

    @Test func tarReadsWhatGNUTarWrites() throws {
        let directory = TestSupport.temporaryDirectory("tar")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("src/sub"), withIntermediateDirectories: true)
        try Data("one".utf8).write(to: directory.appendingPathComponent("src/sub/one.txt"))
        let tar = TestSupport.run([
            "tar", "-C", directory.appendingPathComponent("src").path, "-cf", directory.appendingPathComponent("a.tar").path, ".",
        ])
        #expect(tar.status == 0, "\(tar.stderr)")
        let parsed = try TarArchive(parsing: [UInt8](Data(contentsOf: directory.appendingPathComponent("a.tar"))))
        let file = try #require(parsed.entries.first { $0.path.string == "sub/one.txt" })
        #expect(file.contents == Array("one".utf8))
    }

    @Test func hostileTarIsRefused() {
        #expect(throws: ProviderError.self) { try TarArchive(parsing: TarArchive.rawEntry(name: "../x", contents: [1]) + TarArchive.trailer) }
        var truncated = TarArchive.rawEntry(name: "big", contents: [UInt8](repeating: 1, count: 2000))
        truncated.removeLast(1024)
        #expect(throws: ProviderError.self) { try TarArchive(parsing: truncated) }
        var corrupt = TarArchive.rawEntry(name: "x", contents: [1]) + TarArchive.trailer
        corrupt[0] ^= 0xff
        #expect(throws: ProviderError.self) { try TarArchive(parsing: corrupt) }
    }

    @Test func manifestValidation() {
        let good = ProviderManifest(name: "x", version: "1.2.3", abi: .init(min: 1, max: 1), verbs: ["describe": .init(contract: 1)])
        #expect(good.validationProblem() == nil)
        var bad = good
        bad.version = "1.2"
        #expect(bad.validationProblem()?.contains("semantic version") == true)
        bad = good
        bad.name = "has space"
        #expect(bad.validationProblem() != nil)
    }

    @Test func contractConfigurationExpandsEnvironment() throws {
        let text = "config:\n  socket: ${SOCK}\n  image: ${IMAGE:-busybox:test}\nworkload: {}\n"
        let configuration = try ContractConfiguration.parse(text, source: "t.yaml", environment: ["SOCK": "/tmp/d.sock"])
        #expect(configuration.config["socket"]?.stringValue == "/tmp/d.sock")
        #expect(configuration.config["image"]?.stringValue == "busybox:test")
        #expect(throws: ContractConfigurationError.self) { try ContractConfiguration.parse(text, source: "t.yaml", environment: [:]) }
        #expect(throws: ContractConfigurationError.self) { try ContractConfiguration.parse("bogus: 1\n", source: "t.yaml", environment: [:]) }
    }

    @Test func manifestNoteIsReadWithoutLoading() throws {
        let note = try ELFManifestNote(path: try TestSupport.cExample())
        let json = try #require(note.manifestJSON)
        let manifest = try WireCoding.decode(ProviderManifest.self, from: Array(json.utf8))
        #expect(manifest.name == "c-example")
        #expect(Set(manifest.verbs.keys) == ["describe", "provision", "stop", "inspect", "list_owned"])
    }
}
