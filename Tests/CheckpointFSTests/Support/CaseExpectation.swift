import Glibc
@testable import CheckpointFS

/// What our rules (docs/semantics.md, "Containment" above all) demand of a recorded case.
enum CaseExpectation: Sendable {
    /// The view and the commit must equal the reference's `expected.snap`.
    case matchesReference
    /// The whole checkpoint is refused before anything is written: the root keeps its lower
    /// snapshot, nothing outside it changes, the view does not mount, and the error names
    /// the file and the entry.
    case refused(ExpectedRefusal)
    /// Hostile, but our containment keeps every effect inside the root, so the checkpoint is
    /// applied: these entries must be found in the root, and nothing outside it changes.
    case contained([ExpectedEntry])
}

/// The refusal a case must produce.
struct ExpectedRefusal: Sendable, CustomStringConvertible {
    enum Source: Sendable {
        case diffTar
        case deletedList

        var fileName: String {
            switch self {
            case .diffTar: "rootfs-diff.tar"
            case .deletedList: "deleted.files"
            }
        }
    }

    /// The rule that was broken.
    enum Reason: Sendable, CustomStringConvertible {
        case climbsAboveRoot
        case namesRoot
        case unknownType(String)
        case hardLinkTargetMissing(target: String)
        /// A component on the path (here relative to the root) is not a directory.
        case notADirectory(component: String)
        /// The deleted list is not a JSON array of strings.
        case malformedDeletedList

        var description: String {
            switch self {
            case .climbsAboveRoot: "the name climbs above the root"
            case .namesRoot: "the path names the root itself"
            case .unknownType(let flag): "unknown member type '\(flag)'"
            case .hardLinkTargetMissing(let target): "hard link target '\(target)' is missing"
            case .notADirectory(let component): "'\(component)' is not a directory"
            case .malformedDeletedList: "not a JSON array of strings"
            }
        }
    }

    var source: Source
    /// The first offending member name or deleted path, exactly as the checkpoint spells it
    /// (the one the error must name); nil when the file as a whole is malformed.
    var entry: String?
    var reason: Reason
    /// Further entries of the same case that break a rule on their own.
    var otherOffenders: [String] = []

    var description: String {
        let what = entry.map { "\(source.fileName) entry '\($0)'" } ?? source.fileName
        return "\(what): \(reason)"
    }

    /// Whether a `CheckpointError` is this refusal: the same kind, a file name ending in the
    /// source's name, the same entry and the same rule.
    func matches(_ error: CheckpointError) -> Bool {
        switch (error, reason) {
        case (.malformedDeletedList(let file, _), .malformedDeletedList):
            return source == .deletedList && file.hasSuffix(source.fileName)
        case (.refusedMember(let file, let member, let refusal), _):
            return source == .diffTar && file.hasSuffix(source.fileName) && member == entry
                && matches(refusal)
        case (.refusedDeletedPath(let file, let path, let refusal), _):
            return source == .deletedList && file.hasSuffix(source.fileName) && path == entry
                && matches(refusal)
        default:
            return false
        }
    }

    private func matches(_ refusal: Refusal) -> Bool {
        switch (reason, refusal) {
        case (.climbsAboveRoot, .climbsAboveRoot), (.namesRoot, .namesRoot):
            return true
        case (.unknownType(let expected), .unknownType(let actual)):
            return expected == actual
        case (.hardLinkTargetMissing(let expected), .hardLinkTargetMissing(let actual)):
            return expected == actual
        case (.notADirectory(let expected), .notADirectory(let actual)):
            // The component may be written relative to the root or with a leading slash.
            return actual.drop { $0 == "/" } == expected.drop { $0 == "/" }
        default:
            return false
        }
    }
}

/// An entry that must exist in the root after a contained hostile case is applied.
struct ExpectedEntry: Sendable, CustomStringConvertible {
    enum Kind: Sendable {
        case file(contents: String)
        case symlink(target: String)
    }

    /// Relative to the root.
    var path: String
    var kind: Kind

    var description: String {
        switch kind {
        case .file(let contents): "\(path): a file holding \(contents.debugDescription)"
        case .symlink(let target): "\(path): a symlink to \(target)"
        }
    }

    /// What differs from this expectation in the tree at `root`; nil when nothing does.
    /// Reads with lstat(2) and readlink(2), never following the entry itself.
    func mismatch(inRoot root: String) -> String? {
        let full = root + "/" + path
        var info = Glibc.stat()
        guard lstat(full, &info) == 0 else { return "\(path) is missing" }
        let kind = SnapshotKind(info.st_mode)
        switch self.kind {
        case .file(let contents):
            guard kind == .regular else { return "\(path) is of type \(kind.rawValue), not f" }
            guard let bytes = try? TestFile.bytes(atPath: full) else {
                return "\(path) cannot be read"
            }
            let actual = String(decoding: bytes, as: UTF8.self)
            return actual == contents ? nil : "\(path) holds \(actual.debugDescription)"
        case .symlink(let target):
            guard kind == .symlink else { return "\(path) is of type \(kind.rawValue), not l" }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(full, &buffer, buffer.count - 1)
            guard length >= 0 else { return "\(path) cannot be read as a link" }
            let actual = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) },
                                as: UTF8.self)
            return actual == target ? nil : "\(path) points to \(actual)"
        }
    }
}
