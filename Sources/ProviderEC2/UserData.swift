import Foundation
import ProviderWire

/// The bootstrap an instance runs at first boot (EC2 user-data): wait for the configs volume, format it when new,
/// mount it at the runtime's root and mark it mounted, wait for the provider to deliver the token over SSH, then start
/// the workspace runtime container with `/configs` bind-mounted and the workspace's environment.
///
/// Neither the token nor the workspace's environment (which may carry secrets) is part of user-data, which the EC2 API
/// (DescribeInstanceAttribute) and the instance metadata service hand out: the provider writes both over SSH
/// (``EnvironmentFile``, then the token), and the bootstrap starts the container once the token is there.
struct UserData {
    var workspaceId: String
    var root: String
    var volumeId: String
    var device: String
    var runtimeImage: String?
    var command: [String]?
    var uid: Int
    /// How long the bootstrap waits for the volume and for the token.
    var bootTimeoutSeconds: Int

    /// Written into the root once the configs volume is mounted there; the provider waits for it before writing.
    static let mountedMarker = ".molecule-mounted"

    /// The script, at most 16 KiB once base64-encoded (EC2's limit), else INVALID_ARGUMENT.
    func rendered() throws(ProviderError) -> String {
        // Only the identity, which carries no secret; the rest of the agent's environment arrives in the env file.
        let env = AgentEnvironment.identity(workspaceId: workspaceId, filesRoot: "/configs")
        let envFlags =
            env.sorted { $0.key < $1.key }.map { "-e \("\($0.key)=\($0.value)".shellQuoted)" }.joined(separator: " ")
            + " \"${ENVFILE[@]}\""
        let nvmeName = "nvme-Amazon_Elastic_Block_Store_" + volumeId.replacingOccurrences(of: "-", with: "")
        let xvd = device.hasPrefix("/dev/sd") ? "/dev/xvd" + device.dropFirst("/dev/sd".count) : device
        var lines = [
            "#!/bin/bash",
            "# Molecule workspace \(workspaceId): rendered by ProviderEC2.",
            "set -euo pipefail",
            "ROOT=\(root.shellQuoted)",
            "WAIT=\(max(1, bootTimeoutSeconds))",
            "NVME=/dev/disk/by-id/\(nvmeName.shellQuoted)",
            // Nitro instances show the volume as NVMe (by volume id), Xen ones as /dev/xvdX, the rest by the device name.
            "DEV=''; for i in $(seq 1 \"$WAIT\"); do for d in \"$NVME\" \(device.shellQuoted) \(xvd.shellQuoted); do [ -e \"$d\" ] && DEV=$d && break 2; done; sleep 1; done",
            "[ -n \"$DEV\" ] || { echo 'molecule: the configs volume \(volumeId) never appeared' >&2; exit 1; }",
            "blkid \"$DEV\" >/dev/null 2>&1 || mkfs.ext4 -q -L molecule-configs \"$DEV\"",
            "mkdir -p \"$ROOT\"",
            "mountpoint -q \"$ROOT\" || mount \"$DEV\" \"$ROOT\"",
            "chown \(uid):\(uid) \"$ROOT\"",
            // Mounted again at every boot (pause/resume is a stop/start; user-data runs only on the first boot).
            "UUID=$(blkid -s UUID -o value \"$DEV\")",
            "grep -q \"^UUID=$UUID \" /etc/fstab || echo \"UUID=$UUID $ROOT ext4 defaults,nofail 0 2\" >> /etc/fstab",
            // A relaunch on an existing volume finds the previous instance's (revoked) token: the container must wait
            // for the one the provider writes next.
            "rm -f \"$ROOT/\(AgentEnvironment.tokenFileName)\" \"$ROOT/\(EnvironmentFile.name)\"",
            "touch \"$ROOT/\(Self.mountedMarker)\"",
            "for i in $(seq 1 \"$WAIT\"); do [ -s \"$ROOT/\(AgentEnvironment.tokenFileName)\" ] && break; sleep 1; done",
        ]
        if let image = runtimeImage {
            let name = "molecule-" + workspaceId
            let argv = (command ?? []).map(\.shellQuoted).joined(separator: " ")
            lines.append("command -v docker >/dev/null || { apt-get update -qq && apt-get install -y -qq docker.io; }")
            lines.append("ENVFILE=(); [ -f \"$ROOT/\(EnvironmentFile.name)\" ] && ENVFILE=(--env-file \"$ROOT/\(EnvironmentFile.name)\")")
            lines.append("docker rm -f \(name.shellQuoted) >/dev/null 2>&1 || true")
            lines.append(
                "docker run -d --name \(name.shellQuoted) --restart unless-stopped --network host -v \"$ROOT\":/configs \(envFlags) \(image.shellQuoted) \(argv)"
            )
        }
        let script = lines.joined(separator: "\n") + "\n"
        guard Data(script.utf8).base64EncodedString().utf8.count <= 16 * 1024 else {
            throw .invalidArgument("the rendered user-data is larger than EC2's 16 KiB limit; pass fewer or smaller env values")
        }
        return script
    }
}

/// The workspace's environment as a Docker `--env-file` (`KEY=VALUE` lines), written over SSH into the files root
/// (0600, the agent's) instead of user-data.
enum EnvironmentFile {
    static let name = ".molecule-env"

    /// The file's content; a key that is not a shell identifier or a value with a newline or NUL is INVALID_ARGUMENT
    /// (an env file cannot carry them).
    static func render(_ environment: [String: String]) throws(ProviderError) -> String {
        var lines: [String] = []
        for (key, value) in environment.sorted(by: { $0.key < $1.key }) {
            guard let first = key.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic),
                key.unicodeScalars.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) })
            else { throw .invalidArgument("environment variable name \"\(key)\" is not valid") }
            guard !value.contains("\n"), !value.contains("\r"), !value.contains("\0") else {
                throw .invalidArgument("environment variable \(key) contains a newline or NUL, which an env file cannot carry")
            }
            lines.append("\(key)=\(value)")
        }
        return lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")
    }
}
