import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

/// The reference agent: serves its card, health and an echoing A2A endpoint, and keeps itself registered with the
/// platform. SIGTERM or SIGINT shut it down gracefully (exit 0).
@main
struct MoleculeAgent {
    static func main() async {
        LoggingSystem.bootstrap { StreamLogHandler.standardOutput(label: $0) }
        let config: AgentConfig
        do {
            config = try AgentConfig()
        } catch {
            FileHandle.standardError.write(Data("molecule-agent: \(error)\n".utf8))
            exit(2)
        }
        let logger = Logger(label: "molecule-agent")
        let uptime = Uptime()
        let link = PlatformLink(config: config, uptime: uptime, logger: logger)
        let routes = AgentRoutes(card: config.card, workspaceID: config.workspaceID, uptime: uptime)
        let app = Application(
            router: routes.router(),
            configuration: .init(address: .hostname("0.0.0.0", port: config.port)),
            onServerRunning: { _ in link.start() },
            logger: logger
        )
        // Services shut down in reverse: the link first, then the server. A client holding a request open must not
        // hold up the exit, which the platform expects within a second.
        var lifecycle = ServiceGroupConfiguration(services: [app, link], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        lifecycle.maximumGracefulShutdownDuration = .milliseconds(600)
        lifecycle.maximumCancellationDuration = .milliseconds(200)
        do {
            try await ServiceGroup(configuration: lifecycle).run()
        } catch {
            guard link.stoppedGracefully else {
                logger.error("server failed: \(error)")
                exit(1)
            }
        }
        logger.info("stopped")
    }
}
