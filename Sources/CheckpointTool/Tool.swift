import CheckpointFS
import Glibc

/// The `checkpointfs` program: finds the subcommand, parses, validates, runs, and maps
/// every error to an exit status in one place.
enum Tool {
    /// Every subcommand, in the order `--help` lists them.
    static let commands: [any ToolCommand.Type] = [
        MountCommand.self,
        UnmountCommand.self,
        CommitCommand.self,
        CreateCommand.self,
        DiffCommand.self,
        InspectCommand.self,
        ImportCommand.self,
        RuntimeCheckCommand.self,
        LabelCommand.self,
    ]

    static func run(_ arguments: [String]) -> Int32 {
        guard let name = arguments.first, name != "--help", name != "-h" else {
            printTopHelp()
            return arguments.isEmpty ? ExitStatus.usage : ExitStatus.success
        }
        guard let command = commands.first(where: { $0.name == name }) else {
            writeError("checkpointfs: unknown command '\(name)' (see checkpointfs --help)")
            return ExitStatus.usage
        }
        let rest = Array(arguments.dropFirst())
        if rest.contains("--help") || rest.contains("-h") {
            print(command.helpText, terminator: "")
            return ExitStatus.success
        }
        do {
            let parsed = try OptionParser.parse(rest, specs: command.options)
            let instance = try command.init(arguments: parsed)
            return try instance.run()
        } catch let error as UsageError {
            writeError("checkpointfs \(name): \(error.description)")
            writeError(command.helpText)
            return ExitStatus.usage
        } catch {
            writeError("checkpointfs \(name): \(error)")
            return ExitStatus.of(error)
        }
    }

    static func printTopHelp() {
        var text = "usage: checkpointfs COMMAND [OPTIONS] ARGS...\n\n"
        text += "Preview, check and apply the file-system changes of a container checkpoint.\n\n"
        text += "commands:\n"
        for command in commands {
            let gap = String(repeating: " ", count: max(2, 16 - command.name.count))
            text += "  \(command.name)\(gap)\(command.summary)\n"
        }
        text += "\nRun 'checkpointfs COMMAND --help' for a command's options.\n"
        print(text, terminator: "")
    }
}

/// Writes one line to standard error (fd 2: Swift 6 will not touch glibc's `stderr`).
func writeError(_ text: String) {
    let line = text.hasSuffix("\n") ? text : text + "\n"
    _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
}
