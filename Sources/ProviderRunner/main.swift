// molecule-provider-runner: one provider library, served to the Host over the socket on fd 3 (process isolation).
// Started only by the Host (ProviderHost's RunnerSpawner); see ProviderRunnerServer.
import ProviderHost

ProviderRunnerServer.main(arguments: Array(CommandLine.arguments.dropFirst()))
