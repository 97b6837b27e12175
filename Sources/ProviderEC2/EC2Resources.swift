import Foundation
import ProviderWire

/// One instance from `DescribeInstances`/`RunInstances` (`instancesSet/item`).
struct EC2Instance: Sendable {
    var id: String
    var state: String
    var imageId: String?
    var privateAddress: String?
    var publicAddress: String?
    var availabilityZone: String?
    var launchTime: Date?
    var clientToken: String?
    var tags: [String: String]

    init?(_ item: XMLNode) {
        guard let id = item.value("instanceId") else { return nil }
        clientToken = item.value("clientToken")
        self.id = id
        state = item.value("instanceState", "name") ?? "pending"
        imageId = item.value("imageId")
        privateAddress = item.value("privateIpAddress")
        publicAddress = item.value("ipAddress")
        availabilityZone = item.value("placement", "availabilityZone")
        launchTime = item.value("launchTime").flatMap(EC2Time.parse)
        tags = item.tags
    }

    /// Every instance of a `DescribeInstances`/`RunInstances` answer.
    static func all(in document: XMLNode) -> [EC2Instance] {
        let reservations = document.items("reservationSet")
        if reservations.isEmpty { return document.items("instancesSet").compactMap(EC2Instance.init) }
        return reservations.flatMap { $0.items("instancesSet").compactMap(EC2Instance.init) }
    }

    /// EC2's lifecycle seen through the ABI: a stopped instance is a paused workspace; one shutting down is stopped.
    var instanceState: InstanceState {
        switch state {
        case "pending": .starting
        case "running": .running
        case "stopping", "stopped": .paused
        case "shutting-down": .stopped
        default: .absent
        }
    }

    /// Alive for reconciliation: anything that still costs money or can come back.
    var isLive: Bool { ["pending", "running", "stopping", "stopped"].contains(state) }

    /// Which one answers for a workspace when several exist (a leak the next stop will reap).
    var preference: Int {
        switch state {
        case "running": 0
        case "pending": 1
        case "stopping", "stopped": 2
        default: 3
        }
    }
}

/// One EBS volume from `DescribeVolumes`/`CreateVolume`.
struct EC2Volume: Sendable {
    var id: String
    var state: String
    var availabilityZone: String?
    var attachedInstance: String?
    var createTime: Date?
    var tags: [String: String]

    init?(_ node: XMLNode) {
        guard let id = node.value("volumeId") else { return nil }
        self.id = id
        state = node.value("status") ?? "creating"
        availabilityZone = node.value("availabilityZone")
        attachedInstance = node.items("attachmentSet").first.flatMap { $0.value("instanceId") }
        createTime = node.value("createTime").flatMap(EC2Time.parse)
        tags = node.tags
    }
}

/// One image from `DescribeImages`.
struct EC2Image: Sendable {
    var id: String
    var state: String
    var creationDate: Date?
    var tags: [String: String]

    init?(_ node: XMLNode) {
        guard let id = node.value("imageId") else { return nil }
        self.id = id
        state = node.value("imageState") ?? "pending"
        creationDate = node.value("creationDate").flatMap(EC2Time.parse)
        tags = node.tags
    }
}

/// EC2's ISO 8601 timestamps, with or without fractional seconds.
enum EC2Time {
    static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        // moto answers without a zone designator.
        return formatter.date(from: text + "Z")
    }

    static func milliseconds(_ date: Date?) -> Int64 { Int64((date?.timeIntervalSince1970 ?? 0) * 1000) }
}

/// Tag names on every instance, volume and image the provider creates.
enum EC2Tag {
    static let workspaceId = "molecule:workspace-id"
    static let owner = "molecule:owner"
    static let managed = "molecule:managed"
    static let runtime = "molecule:runtime"
    /// `configs` on the workspace's configs volume (root volumes carry the other tags but not this one).
    static let role = "molecule:role"
    static let snapshotId = "molecule:snapshot-id"
}

extension String {
    /// The string as one single-quoted POSIX shell word.
    var shellQuoted: String { "'" + replacingOccurrences(of: "'", with: "'\\''") + "'" }
}
