import Glibc

/// The scripts the fixtures were made with, present only on a developer's machine (they are
/// not part of the repository). Tests that run them are developer checks: they prove that our
/// Swift helpers reproduce the scripts byte for byte, and are disabled wherever the scripts
/// are missing, such as in CI.
enum ReferenceTools {
    static let directory = "/work/shared/tools"
    static let treesnapPath = directory + "/treesnap"
    static let mkcasePath = directory + "/mkcase"
    static let manifestPath = "/work/shared/fixtures/podman/scripts/manifest.py"

    static var hasTreesnap: Bool { access(treesnapPath, X_OK) == 0 }
    static var hasMkcase: Bool { access(mkcasePath, X_OK) == 0 }
    static var hasManifest: Bool { access(manifestPath, R_OK) == 0 }

    /// The script's snapshot of `root` with extra command-line arguments.
    static func treesnap(_ root: String, _ arguments: [String] = []) throws -> TreeSnapshot {
        let result = try Command.succeed("/usr/bin/python3", [treesnapPath] + arguments + [root])
        return TreeSnapshot(text: String(decoding: result.standardOutput, as: UTF8.self))
    }

    /// Builds a case from a spec file with the script: `OUTPUT/lower` and `OUTPUT/checkpoint`.
    static func mkcase(spec: String, output: String) throws {
        try Command.succeed("/usr/bin/python3", [mkcasePath, spec, output])
    }

    /// The podman fixtures' manifest of `root`, one line per entry.
    static func manifest(_ root: String, withMtime: Bool = false) throws -> [String] {
        let result = try Command.succeed(
            "/usr/bin/python3", [manifestPath, root] + (withMtime ? ["--mtime"] : []))
        return String(decoding: result.standardOutput, as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }
}
