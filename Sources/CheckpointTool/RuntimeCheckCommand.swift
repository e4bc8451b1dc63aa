import CheckpointFS

/// `checkpointfs runtime-check`: asks an OCI runtime whether it can checkpoint, and with
/// `--pod` also whether it can restore into a pod.
struct RuntimeCheckCommand: ToolCommand {
    static let name = "runtime-check"
    static let summary = "tell whether an OCI runtime can checkpoint (exit 0) or not (exit 4)"
    static let synopsis = ["[--pod] [--timeout SECONDS] RUNTIME"]
    static let options = [
        OptionSpec(long: "pod", short: "p", takesValue: false,
                   help: "also ask whether it can restore into a pod"),
        OptionSpec(long: "timeout", short: "t", takesValue: true,
                   help: "seconds each question may take (default 10)", valueName: "SECONDS"),
    ]

    var runtime: String
    var pod: Bool
    var timeout: Duration

    init(arguments: ParsedArguments) throws(UsageError) {
        guard arguments.positionals.count == 1 else {
            throw UsageError("expected one RUNTIME, got \(arguments.positionals.count)")
        }
        runtime = arguments.positionals[0]
        pod = arguments.flag("pod")
        timeout = .seconds(10)
        if let text = arguments.value("timeout") {
            guard let seconds = Double(text), seconds > 0, seconds.isFinite else {
                throw UsageError("--timeout needs a positive number of seconds, not '\(text)'")
            }
            timeout = .milliseconds(Int64(seconds * 1000))
        }
    }

    func run() throws -> Int32 {
        let probe = RuntimeProbe(runtime: runtime, timeout: timeout)
        var questions = [("checkpoint", probe.checkpointSupport())]
        if pod { questions.append(("restore into a pod", probe.podRestoreSupport())) }

        var allSupported = true
        for (question, answer) in questions {
            switch answer {
            case .supported:
                print("\(runtime): \(question): supported")
            case .unsupported(let reason):
                allSupported = false
                print("\(runtime): \(question): not supported: \(reason)")
            }
        }
        return allSupported ? ExitStatus.success : ExitStatus.unsupported
    }
}
