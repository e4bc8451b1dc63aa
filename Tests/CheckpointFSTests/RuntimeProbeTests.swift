import Foundation
import Glibc
import Testing
@testable import CheckpointFS

@Suite struct RuntimeProbeTests {
    /// Debian's runc, installed by scripts/setup.
    static let runc = "/usr/sbin/runc"

    /// Writes an executable shell script standing in for a runtime.
    static func script(_ body: String, in scratch: ScratchDirectory, name: String = "runtime",
                       mode: Int = 0o755) throws -> String {
        let path = scratch.path + "/" + name
        try Data(("#!/bin/sh\n" + body + "\n").utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    @Test func runcSupportsCheckpointAndPodRestore() {
        let probe = RuntimeProbe(runtime: Self.runc)
        #expect(probe.checkpointSupport() == .supported)
        #expect(probe.podRestoreSupport() == .supported)
    }

    @Test func missingRuntimeIsUnsupported() throws {
        let scratch = try ScratchDirectory()
        let probe = RuntimeProbe(runtime: scratch.path + "/no-such-runtime")
        #expect(probe.checkpointSupport() == .unsupported(
            reason: "cannot run \(scratch.path)/no-such-runtime: No such file or directory"))
        #expect(probe.podRestoreSupport() != .supported)
    }

    @Test func nonExecutableRuntimeIsUnsupported() throws {
        let scratch = try ScratchDirectory()
        let path = try Self.script("exit 0", in: scratch, mode: 0o644)
        #expect(RuntimeProbe(runtime: path).checkpointSupport() == .unsupported(
            reason: "cannot run \(path): Permission denied"))
        // A directory cannot be run either.
        #expect(RuntimeProbe(runtime: scratch.path).checkpointSupport() != .supported)
    }

    @Test func runtimeWithoutCheckpointCommand() throws {
        let scratch = try ScratchDirectory()
        let path = try Self.script("""
            if [ "$1" = checkpoint ]; then echo "unknown command checkpoint" >&2; exit 1; fi
            exit 0
            """, in: scratch)
        #expect(RuntimeProbe(runtime: path).checkpointSupport() == .unsupported(
            reason: "'\(path) checkpoint --help' exited with status 1"))
    }

    @Test func runtimeWithoutTheMountContextFlag() throws {
        // Like an older runc: checkpoint works, the restore flag is unknown.
        let scratch = try ScratchDirectory()
        let path = try Self.script("""
            if [ "$1" = restore ]; then
                echo "flag provided but not defined: $2" >&2; exit 1
            fi
            exit 0
            """, in: scratch)
        let probe = RuntimeProbe(runtime: path)
        #expect(probe.checkpointSupport() == .supported)
        guard case .unsupported(let reason) = probe.podRestoreSupport() else {
            Issue.record("a runtime without the flag was taken as supporting it")
            return
        }
        #expect(reason.contains("restore --lsm-mount-context"))
    }

    @Test func mountContextAnswerOnStandardOutputCounts() throws {
        let scratch = try ScratchDirectory()
        let path = try Self.script(#"echo "Incorrect Usage: flag needs an argument: $2"; exit 1"#,
                                   in: scratch)
        #expect(RuntimeProbe(runtime: path).podRestoreSupport() == .supported)
    }

    @Test func hangingRuntimeIsKilledWithItsChildren() throws {
        let scratch = try ScratchDirectory()
        let pidFile = scratch.path + "/child.pid"
        let path = try Self.script("sleep 1000 & echo $! > \(pidFile); wait", in: scratch)

        let answer = RuntimeProbe(runtime: path, timeout: .milliseconds(300))
            .checkpointSupport()
        #expect(answer == .unsupported(
            reason: "'\(path) checkpoint --help' did not finish within 0.3 seconds"))

        // The runtime's child went too: gone, or a zombie waiting for init.
        let text = try String(contentsOfFile: pidFile, encoding: .utf8)
        let child = try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        // SIGKILL takes effect when the child next runs: on a loaded machine, not at once.
        var stat: String?
        for _ in 0..<500 {
            stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8)
            let state = stat?.split(separator: ")").last?.split(separator: " ").first
            if stat == nil || state == "Z" { break }
            usleep(10_000)
        }
        let state = stat?.split(separator: ")").last?.split(separator: " ").first
        #expect(stat == nil || state == "Z", "child \(child) still runs: \(stat ?? "")")
    }

    @Test func runtimeThatLeavesAChildHoldingItsOutputIsNotWaitedFor() throws {
        let scratch = try ScratchDirectory()
        let path = try Self.script("sleep 1000 & exit 0", in: scratch)
        #expect(RuntimeProbe(runtime: path, timeout: .seconds(30)).checkpointSupport()
                == .supported)
    }

    @Test func largeOutputDoesNotBlockTheRuntime() throws {
        let scratch = try ScratchDirectory()
        let path = try Self.script("""
            head -c 300000 /dev/zero | tr '\\0' x
            echo "flag needs an argument: $2" >&2
            exit 1
            """, in: scratch)
        // 300 kB fill the pipe many times over before the answer comes.
        #expect(RuntimeProbe(runtime: path).podRestoreSupport() == .supported)
        #expect(RuntimeProbe(runtime: path).checkpointSupport() == .unsupported(
            reason: "'\(path) checkpoint --help' exited with status 1"))
    }
}

@Suite struct RuntimeCheckCommandTests {
    @Test func runcIsSupportedWithExitZero() throws {
        let result = try BuiltTool.run(["runtime-check", "--pod", RuntimeProbeTests.runc])
        #expect(result.status == 0)
        #expect(String(decoding: result.output, as: UTF8.self) == """
            \(RuntimeProbeTests.runc): checkpoint: supported
            \(RuntimeProbeTests.runc): restore into a pod: supported

            """)
    }

    @Test func unsupportedRuntimeExitsFour() throws {
        let scratch = try ScratchDirectory()
        let path = try RuntimeProbeTests.script("exit 0", in: scratch)
        // Checkpoint works, restore into a pod does not.
        #expect(try BuiltTool.run(["runtime-check", path]).status == 0)
        let result = try BuiltTool.run(["runtime-check", "--pod", path])
        #expect(result.status == 4)
        #expect(String(decoding: result.output, as: UTF8.self)
                .contains("\(path): restore into a pod: not supported: "))
    }

    @Test func badTimeoutIsAUsageError() throws {
        let result = try BuiltTool.run(["runtime-check", "--timeout", "soon",
                                        RuntimeProbeTests.runc])
        #expect(result.status == 2)
        #expect(result.error.contains("--timeout needs a positive number of seconds"))
        #expect(try BuiltTool.run(["runtime-check", "--help"]).status == 0)
    }
}
