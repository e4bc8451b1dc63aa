import Foundation
import Glibc
import Testing
@testable import CheckpointFS

/// The program as a whole: every command has help, a place in the manual page and in the
/// bash completion; the exit statuses are the documented ones; progress shows only on a
/// terminal; errors name the file and entry they are about.
@Suite struct CommandLineTests {
    /// A file of the repository, found from this source file.
    static func repositoryFile(_ relative: String) -> String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(relative).path
    }

    static let manualPage = repositoryFile("docs/checkpointfs.1")
    static let completion = repositoryFile("scripts/completion")

    /// The commands `checkpointfs --help` lists.
    static func commands() throws -> [String] {
        let help = try BuiltTool.run(["--help"])
        #expect(help.status == 0)
        let text = String(decoding: help.output, as: UTF8.self)
        let list = try #require(text.components(separatedBy: "commands:\n").last)
        return list.split(separator: "\n").prefix { $0.hasPrefix("  ") }
            .compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    /// The long options a command's `--help` lists, `--help` included.
    static func longOptions(of command: String) throws -> [String] {
        let help = try BuiltTool.run([command, "--help"])
        #expect(help.status == 0, "\(command): \(help.error)")
        let text = String(decoding: help.output, as: UTF8.self)
        #expect(text.hasPrefix("usage:\n  checkpointfs \(command) "), "\(command)")
        let options = text.components(separatedBy: "options:\n").last ?? ""
        return options.split(separator: "\n").compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("--") }.map(String.init)
        }
    }

    @Test func everyCommandIsListedWithHelp() throws {
        let commands = try Self.commands()
        #expect(commands == ["mount", "unmount", "commit", "create", "diff", "inspect", "import",
                             "runtime-check", "label"])
        for command in commands {
            #expect(try Self.longOptions(of: command).contains("--help"), "\(command)")
        }
    }

    @Test func manualPageHasASectionForEveryCommandAndEveryOption() throws {
        let manual = try String(contentsOfFile: Self.manualPage, encoding: .utf8)
        let sections = manual.components(separatedBy: "\n.SS ")
        for command in try Self.commands() {
            let escaped = command.replacingOccurrences(of: "-", with: "\\-")
            let section = sections.first { $0.hasPrefix(escaped + "\n") }
            try #require(section != nil, "no section for \(command)")
            for option in try Self.longOptions(of: command) where option != "--help" {
                let roff = option.replacingOccurrences(of: "-", with: "\\-")
                #expect(section!.contains(roff), "\(command) \(option) is not in its section")
            }
        }
        for heading in ["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "EXIT STATUS",
                        "ENVIRONMENT", "FILES", "EXAMPLES", "SEE ALSO"] {
            #expect(manual.contains("\n.SH \(heading)\n"), "no \(heading)")
        }
    }

    @Test func manualPageRendersWithoutWarnings() throws {
        let result = try Command.run("/usr/bin/groff", ["-man", "-ww", "-z", Self.manualPage])
        #expect(result.status == 0)
        #expect(result.standardError.isEmpty, "\(result.standardError)")
    }

    /// The statuses documented in the README table and the manual page's EXIT STATUS, which
    /// must be the same, and what the program returns for each.
    @Test func exitStatusesAreTheDocumentedOnes() throws {
        let readme = try String(contentsOfFile: Self.repositoryFile("README.md"), encoding: .utf8)
        let readmeCodes = readme.split(separator: "\n").compactMap { line -> Int? in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            return cells.count == 2 && line.hasPrefix("| ") ? Int(cells[0]) : nil
        }
        let manual = try String(contentsOfFile: Self.manualPage, encoding: .utf8)
        let exitSection = try #require(manual.components(separatedBy: ".SH EXIT STATUS\n").last?
            .components(separatedBy: "\n.SH ").first)
        let manualCodes = exitSection.components(separatedBy: ".TP\n.B ").dropFirst()
            .compactMap { Int($0.prefix { $0.isNumber }) }
        #expect(readmeCodes == [0, 1, 2, 3, 4])
        #expect(manualCodes == readmeCodes)

        let scratch = try MountScratch(members: [.file("../escape", "x\n")])
        #expect(try BuiltTool.run(["--help"]).status == 0)
        #expect(try BuiltTool.run(["commit", "--root", scratch.root + "/missing",
                                   scratch.checkpoint]).status == 1)
        #expect(try BuiltTool.run(["no-such-command"]).status == 2)
        #expect(try BuiltTool.run(["diff", "--no-such-option"]).status == 2)
        #expect(try BuiltTool.run(["diff", "--root", scratch.root, scratch.checkpoint]).status
                == 3)
        #expect(try BuiltTool.run(["runtime-check", "/bin/false"]).status == 4)
    }

    /// Runs the completion function as bash would for `words`, the last one being completed.
    static func complete(_ words: [String]) throws -> [String] {
        let quoted = words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let script = """
            source '\(completion)'
            COMP_WORDS=(\(quoted.joined(separator: " ")))
            COMP_CWORD=\(words.count - 1)
            _checkpointfs
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        let result = try Command.run("/bin/bash", ["-c", script])
        #expect(result.status == 0, "\(result.standardError)")
        return String(decoding: result.standardOutput, as: UTF8.self)
            .split(separator: "\n").map(String.init)
    }

    @Test func completionOffersEveryCommandAndItsOptions() throws {
        let commands = try Self.commands()
        #expect(try Self.complete(["checkpointfs", ""]) == commands + ["--help"])
        #expect(try Self.complete(["checkpointfs", "ins"]) == ["inspect"])
        for command in commands {
            let offered = try Self.complete(["checkpointfs", command, "--"])
            #expect(Set(offered) == Set(try Self.longOptions(of: command)), "\(command)")
        }
        #expect(try Self.complete(["checkpointfs", "diff", "--format", ""]) == ["text", "json"])
        #expect(try Self.complete(["checkpointfs", "inspect", "-f", ""]) == ["table", "json"])
        let scratch = try TemporaryDirectory("completion")
        _ = try check("mkdir", "dir") { mkdir(scratch.path("somedir"), 0o755) }
        try Data().write(to: URL(fileURLWithPath: scratch.path("somefile")))
        #expect(try Self.complete(["checkpointfs", "commit", "--root", scratch.path("some")])
                == [scratch.path("somedir")])
        #expect(Set(try Self.complete(["checkpointfs", "inspect", scratch.path("some")]))
                == [scratch.path("somedir"), scratch.path("somefile")])
    }

    @Test func completionOffersMountedViewsToUnmount() throws {
        let scratch = try MountScratch(members: [.file("a", "x\n")])
        let view = try scratch.mount()
        defer { view.unmount() }
        #expect(try Self.complete(["checkpointfs", "unmount", ""]).contains(view.mountPoint))
    }

    /// Progress is drawn on a terminal (script(1) gives the program one) and nowhere else.
    @Test func progressShowsOnATerminalOnly() throws {
        let checkpoint = PodmanFixture.path("archives/ckrich-zstd-default.tar.zst")
        func commit(quiet: Bool, terminal: Bool) throws -> (status: Int32, text: String) {
            let scratch = try TemporaryDirectory("progress")
            try BaseRootfs.extract(into: scratch.path)
            let words = [BuiltTool.path, "commit", "--state-dir", scratch.path + "/.state",
                         "--root", scratch.path] + (quiet ? ["-q"] : []) + [checkpoint]
            if terminal {
                let result = try Command.run("/usr/bin/script",
                                             ["-qec", words.joined(separator: " "), "/dev/null"])
                return (result.status, String(decoding: result.standardOutput, as: UTF8.self))
            }
            let result = try BuiltTool.run(Array(words.dropFirst()))
            return (result.status, result.error)
        }

        let shown = try commit(quiet: false, terminal: true)
        #expect(shown.status == 0, "\(shown.text)")
        #expect(shown.text.contains("\rreading ckrich-zstd-default.tar.zst: "))
        #expect(shown.text.contains("\rapplying ckrich-zstd-default.tar.zst:rootfs-diff.tar: "
                                    + "39/39 (100%)\u{1b}[K"))
        // Cleared before anything else is written.
        #expect(shown.text.contains("(100%)\u{1b}[K\r\u{1b}[K"))

        let quiet = try commit(quiet: true, terminal: true)
        #expect(quiet.status == 0)
        // The terminal ends each line with \r\n; a progress line starts with \r alone.
        #expect(!quiet.text.replacingOccurrences(of: "\r\n", with: "\n").contains("\r"),
                "\(quiet.text)")
        #expect(!quiet.text.contains("applying"))

        let piped = try commit(quiet: false, terminal: false)
        #expect(piped.status == 0)
        #expect(!piped.text.contains("\r"))
        #expect(!piped.text.contains("applying"))
    }

    struct Failure: CustomStringConvertible, Sendable {
        var description: String
        var arguments: @Sendable (MountScratch) -> [String]
        var status: Int32
        /// What the message must name, given the scratch.
        var names: @Sendable (MountScratch) -> [String]
    }

    /// Every failure names its file and, where there is one, its entry.
    static let failures: [Failure] = [
        Failure(description: "missing root",
                arguments: { ["commit", "--root", $0.root + "/gone", $0.checkpoint] },
                status: 1, names: { [$0.root + "/gone"] }),
        Failure(description: "member climbing out",
                arguments: { ["commit", "--root", $0.root, $0.checkpoint] }, status: 3,
                names: { [$0.checkpoint + "/rootfs-diff.tar", "member 'x/../../y'"] }),
        Failure(description: "deleted list not JSON",
                arguments: { scratch in
                    try? Data("[oops".utf8).write(
                        to: URL(fileURLWithPath: scratch.checkpoint + "/deleted.files"))
                    return ["diff", "--root", scratch.root, scratch.checkpoint]
                }, status: 3, names: { [$0.checkpoint + "/deleted.files"] }),
        Failure(description: "deleted path naming the root",
                arguments: { scratch in
                    try? Data("[\"/\"]".utf8).write(
                        to: URL(fileURLWithPath: scratch.checkpoint + "/deleted.files"))
                    try? FileManager.default.removeItem(
                        atPath: scratch.checkpoint + "/rootfs-diff.tar")
                    return ["commit", "--root", scratch.root, scratch.checkpoint]
                }, status: 3, names: { [$0.checkpoint + "/deleted.files", "deleted path '/'"] }),
        Failure(description: "inspect of a missing checkpoint",
                arguments: { ["inspect", $0.checkpoint + "/nothing.tar.zst"] }, status: 3,
                names: { [$0.checkpoint + "/nothing.tar.zst"] }),
        Failure(description: "import of a file that is no archive",
                arguments: { ["import", $0.checkpoint + "/deleted.files", $0.root] },
                status: 3, names: { [$0.checkpoint + "/deleted.files"] }),
        Failure(description: "mount point missing",
                arguments: { ["mount", "--root", $0.root, $0.checkpoint, $0.root + "/nope"] },
                status: 1, names: { [$0.root + "/nope"] }),
    ]

    @Test(arguments: failures)
    func errorNamesItsFileAndEntry(_ failure: Failure) throws {
        let scratch = try MountScratch(members: [.file("ok", "fine\n"), .file("x/../../y", "o\n")])
        let result = try BuiltTool.run(failure.arguments(scratch))
        #expect(result.status == failure.status, "\(result.error)")
        for name in failure.names(scratch) {
            #expect(result.error.contains(name), "\(result.error) does not name \(name)")
        }
        #expect(result.error.hasPrefix("checkpointfs "), "\(result.error)")
    }
}
