import ArgumentParser

/// `molecule-host`: the Host's command line.
@main
struct MoleculeHost: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "molecule-host",
        abstract: "Provisions and runs AI-agent workspaces on pluggable provider backends.",
        subcommands: [ServeCommand.self, MigrateCommand.self, ContractCommand.self, ParityCommand.self, ProvidersCommand.self, SchemasCommand.self]
    )
}
