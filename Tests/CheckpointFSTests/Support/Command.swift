import Foundation

/// What a finished child process left behind.
struct CommandResult: Sendable {
    var status: Int32
    var standardOutput: [UInt8]
    var standardError: String
}

/// A child process that ran but failed.
struct CommandError: Error, CustomStringConvertible {
    var command: [String]
    var result: CommandResult

    var description: String {
        "\(command.joined(separator: " ")) exited with \(result.status): \(result.standardError)"
    }
}

/// Runs external programs the tests compare against or prepare data with (GNU tar, the
/// fixtures' snapshot script).
enum Command {
    /// Runs `executable` with `arguments`, no standard input, and collects both outputs.
    static func run(_ executable: String, _ arguments: [String]) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()

        // Drain stderr on another thread so that neither pipe can fill up and stall the child.
        let errorBytes = PipeDrain(errors.fileHandleForReading)
        let outputBytes = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(
            status: process.terminationStatus,
            standardOutput: Array(outputBytes),
            standardError: String(decoding: errorBytes.wait(), as: UTF8.self))
    }

    /// Runs a command and throws `CommandError` unless it exits with status 0.
    @discardableResult
    static func succeed(_ executable: String, _ arguments: [String]) throws -> CommandResult {
        let result = try run(executable, arguments)
        guard result.status == 0 else {
            throw CommandError(command: [executable] + arguments, result: result)
        }
        return result
    }
}

/// Reads a pipe to its end on a background thread.
private final class PipeDrain: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}
