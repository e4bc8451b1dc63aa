import CSystem
import Glibc
import Testing
@testable import CheckpointFS

/// A scratch directory holding a root to apply a checkpoint to, surrounded by canary files,
/// so a test can prove that nothing outside the root was written, removed or retimed:
///
///     SCRATCH/x  SCRATCH/outside  SCRATCH/canary  SCRATCH/etc/x  SCRATCH/etc/passwd
///     SCRATCH/w/x  SCRATCH/w/outside  SCRATCH/w/rootx/secret  SCRATCH/w/root/   <- root
///
/// `w/rootx` starts with the root's own name, to catch string-prefix containment checks;
/// `etc/passwd` and `x` sit where an absolute or climbing name would land if it escaped
/// through `/` or `..`. The tree around the root is snapshotted when the sandbox is made.
final class Sandbox: @unchecked Sendable {
    /// Canary files, relative to the scratch directory.
    static let canaries = [
        "x", "outside", "canary", "etc/x", "etc/passwd", "w/x", "w/outside", "w/rootx/secret",
    ]

    let scratch: TemporaryDirectory
    /// The root: an empty directory (0755, 0:0) when the sandbox is made.
    let root: String
    private let before: TreeSnapshot

    init() throws {
        let scratch = try TemporaryDirectory("sandbox")
        for directory in ["etc", "w", "w/rootx", "w/root"] {
            let path = scratch.path(directory)
            _ = try check("mkdir", path) { mkdir(path, 0o755) }
            // Explicit modes: the process umask is not ours to rely on.
            _ = try check("chmod", path) { chmod(path, 0o755) }
        }
        for canary in Self.canaries {
            try Self.write("CANARY /\(canary)\n", to: scratch.path(canary))
        }
        self.scratch = scratch
        root = scratch.path("w/root")
        before = try Self.snapshotAround(scratch)
    }

    /// The snapshot of everything in the scratch directory except the root and its contents.
    func outsideSnapshot() throws(SystemError) -> TreeSnapshot {
        try Self.snapshotAround(scratch)
    }

    private static func snapshotAround(_ scratch: TemporaryDirectory) throws(SystemError)
        -> TreeSnapshot
    {
        try TreeSnapshot(of: scratch.path, excluding: ["w/root"])
    }

    /// What changed outside the root since the sandbox was made (`- ` before, `+ ` after);
    /// empty when nothing did.
    func changesOutsideRoot() throws(SystemError) -> String {
        try outsideSnapshot().difference(from: before)
    }

    /// Records a test failure if anything outside the root changed: a canary's content,
    /// mode, owner, mtime or xattrs, an entry added or removed next to the root or above it.
    func expectNothingChangedOutsideRoot(sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let changes = try changesOutsideRoot()
            #expect(changes.isEmpty, "changed outside the root:\n\(changes)",
                    sourceLocation: sourceLocation)
        } catch {
            Issue.record("cannot snapshot the sandbox: \(error)", sourceLocation: sourceLocation)
        }
    }

    private static func write(_ text: String, to path: String) throws(SystemError) {
        let flags = O_WRONLY | O_CREAT | O_EXCL | CKPT_O_CLOEXEC
        let fd = try check("open", path) { Glibc.open(path, flags, 0o644) }
        let file = FileDescriptor(adopting: fd, path: path)
        _ = try check("fchmod", path) { fchmod(file.raw, 0o644) }
        let bytes = Array(text.utf8)
        let written = try check("write", path) {
            bytes.withUnsafeBytes { Glibc.write(file.raw, $0.baseAddress, $0.count) }
        }
        precondition(written == bytes.count, "short write of a small canary file")
    }
}
