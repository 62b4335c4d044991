import ArgumentParser

/// The servers and binaries every scenario that runs `tailgate-agent` needs.
struct StackOptions: ParsableArguments {
    @Option(help: "Redis URL (a private server: the benchmark runs FLUSHALL)")
    var redis: String

    @Option(name: .customLong("docker-host"), help: "Docker engine, unix:///path/docker.sock")
    var dockerHost: String

    @Option(help: "Path of the tailgate-agent binary (a release build)")
    var agent: String

    @Option(help: "Image with busybox sh, seq and usleep")
    var image = "tailgate-test-busybox:latest"

    @Option(name: .customLong("log-dir"), help: "Where the logs of the programs under test go (default: a new temporary directory)")
    var logDirectory: String?

    @Option(name: .customLong("dockerd-pid"), help: "pid of dockerd, to report its CPU time too")
    var dockerdPID: Int32?
}
