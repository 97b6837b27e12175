import ProviderKit
import ProviderWire

/// The operator's configuration of the directory provider (the JSON object the Host passes to `create`):
///
/// ```yaml
/// state_dir: /var/lib/molecule/directory   # required: where workspaces and snapshots live
/// owner: team-a                             # optional (default "default"): the label list_owned matches
/// ```
struct DirectoryConfiguration: Decodable, Sendable {
    /// Where workspaces and snapshots live (``StateDirectory``).
    var stateDir: String
    /// The owner label written on everything this instance creates.
    var owner: String

    enum CodingKeys: String, CodingKey {
        case stateDir = "state_dir"
        case owner
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        stateDir = try container.decode(String.self, forKey: .stateDir)
        owner = try container.decodeIfPresent(String.self, forKey: .owner) ?? "default"
        guard stateDir.hasPrefix("/") else { throw ProviderError.invalidArgument("directory configuration: \"state_dir\" must be absolute") }
        guard !owner.isEmpty else { throw ProviderError.invalidArgument("directory configuration: \"owner\" must not be empty") }
    }
}
