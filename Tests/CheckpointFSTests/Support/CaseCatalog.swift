/// Every recorded case, what the reference did with it, and what our rules demand.
///
/// The rules are those of docs/semantics.md: for benign input we do what the reference did;
/// a checkpoint with an entry that breaks a containment or validity rule is refused whole,
/// before anything is written, even where the reference wrote part of it first (04, 08, 12,
/// 13) or let it escape (15, 16, 20). Case 18 is hostile but needs no refusal: symlinks are
/// stored verbatim and every path is resolved inside the root as if it were `/`, so the
/// climbing symlink leads back into the root.
enum CaseCatalog {
    static let all: [CheckpointCase] = [
        CheckpointCase(
            name: "01-basic-podman-like", referenceAccepted: true, hostile: false,
            expectation: .matchesReference,
            note: "ustar names as podman writes them: modified and added files, setuid, sticky "
                + "and setgid modes, implicit parents, owners, symlinks; deleted file, "
                + "directory, missing path and a path with a trailing slash."),
        CheckpointCase(
            name: "02-gnu-dotslash-long-nonutf8", referenceAccepted: true, hostile: false,
            expectation: .matchesReference,
            note: "GNU format with ./ prefixes: the ./ member is skipped, ./etc/ merges into "
                + "the lower etc and applies its metadata; long names and targets, non-UTF-8 "
                + "names."),
        CheckpointCase(
            name: "03-pax-xattrs-mtime", referenceAccepted: true, hostile: false,
            expectation: .matchesReference,
            note: "PAX xattrs (user, trusted on a file and a symlink, security.capability); "
                + "security.selinux and empty values are not set; sub-second mtimes, a uid "
                + "over the ustar range, a binary name."),
        CheckpointCase(
            name: "04-hardlinks", referenceAccepted: false, hostile: false,
            expectation: .refused(ExpectedRefusal(
                source: .diffTar, entry: "data/dangling",
                reason: .hardLinkTargetMissing(target: "nope/missing"))),
            note: "Hard links inside the tar, to lower files and to a lower symlink, then one "
                + "to a missing target. The reference applied the members before it and failed "
                + "there without naming it; we refuse the whole tar before writing."),
        CheckpointCase(
            name: "05-special-files", referenceAccepted: true, hostile: false,
            expectation: .matchesReference,
            note: "A FIFO, a char and a block device; a 0:0 char device replaces a lower file "
                + "and is not a whiteout."),
        CheckpointCase(
            name: "06-duplicates", referenceAccepted: true, hostile: false,
            expectation: .matchesReference,
            note: "Members repeated with the same or another type: the last one wins; "
                + "directory mtimes are applied after the last member."),
        CheckpointCase(
            name: "07-type-conflicts", referenceAccepted: true, hostile: false,
            expectation: .matchesReference,
            note: "A member of another type replaces the lower entry whole; a member under a "
                + "lower symlink to a directory is written through it, inside the root."),
        CheckpointCase(
            name: "08-deleted-vs-tar-whiteout-names", referenceAccepted: false, hostile: false,
            expectation: .refused(ExpectedRefusal(
                source: .deletedList, entry: "/s/file/child",
                reason: .notADirectory(component: "s/file"))),
            note: "Deleted paths win over tar content and .wh. names are plain files, but "
                + "/s/file/child has a regular file as its parent. The reference removed the "
                + "paths before it and stopped there; the merged tree already shows s/file is "
                + "a file, so we refuse before writing."),
        CheckpointCase(
            name: "09-no-tar-null-deleted", referenceAccepted: true, hostile: false,
            expectation: .matchesReference,
            note: "No diff tar and a deleted list holding JSON null: nothing changes."),
        CheckpointCase(
            name: "10-no-files-at-all", referenceAccepted: true, hostile: false,
            expectation: .matchesReference,
            note: "Neither file (git keeps no empty checkpoint folder): nothing changes."),
        CheckpointCase(
            name: "11-gzip-tar", referenceAccepted: true, hostile: false,
            expectation: .matchesReference,
            note: "A gzip-compressed diff tar is read like a plain one."),
        CheckpointCase(
            name: "12-bad-deleted-json", referenceAccepted: false, hostile: false,
            expectation: .refused(ExpectedRefusal(
                source: .deletedList, entry: nil, reason: .malformedDeletedList)),
            note: "The deleted list is a JSON object. The reference had applied the tar "
                + "already; we refuse before writing."),
        CheckpointCase(
            name: "13-unknown-typeflag", referenceAccepted: false, hostile: false,
            expectation: .refused(ExpectedRefusal(
                source: .diffTar, entry: "weird", reason: .unknownType("Z"))),
            note: "A member of type Z after a normal one. The reference applied the first "
                + "member and stopped; we refuse before writing."),
        CheckpointCase(
            name: "14-tar-dotdot-name", referenceAccepted: false, hostile: true,
            expectation: .refused(ExpectedRefusal(
                source: .diffTar, entry: "../escape", reason: .climbsAboveRoot)),
            note: "A member named ../escape after a normal one. The reference refused it "
                + "after writing ok-before; we write nothing."),
        CheckpointCase(
            name: "15-tar-odd-names", referenceAccepted: true, hostile: true,
            expectation: .refused(ExpectedRefusal(
                source: .diffTar, entry: "../", reason: .climbsAboveRoot)),
            note: "Absolute, dotted and doubled-slash names stay inside the root and / names "
                + "the root (skipped), but the directory member .. names the root's parent: "
                + "the reference chowned, chmodded and retimed it."),
        CheckpointCase(
            name: "16-tar-dotdot-file", referenceAccepted: true, hostile: true,
            expectation: .refused(ExpectedRefusal(
                source: .diffTar, entry: "..", reason: .climbsAboveRoot)),
            note: "A regular-file member named ..: the reference removed the root's parent, "
                + "root and siblings included, and wrote a file in its place."),
        CheckpointCase(
            name: "18-tar-symlink-dotdot", referenceAccepted: false, hostile: true,
            expectation: .contained([
                ExpectedEntry(path: "ok-before", kind: .file(contents: "ok\n")),
                ExpectedEntry(path: "b", kind: .symlink(target: "../../..")),
                ExpectedEntry(path: "x", kind: .file(contents: "ESCAPED via b\n")),
            ]),
            note: "A symlink b -> ../../.. then a member b/x. The reference refused the "
                + "symlink after writing ok-before. Our rules store the target verbatim and "
                + "resolve b inside the root as if it were /, so b/x is written as ROOT/x."),
        CheckpointCase(
            name: "20-deleted-outside", referenceAccepted: true, hostile: true,
            expectation: .refused(ExpectedRefusal(
                source: .deletedList, entry: "../outside", reason: .climbsAboveRoot,
                otherOffenders: ["/../../etc/x", "/"])),
            note: "Deleted paths ../outside and /../../etc/x climb above the root, / names "
                + "the root: the reference removed a sibling of the root, a file above it, "
                + "and the root itself."),
    ]

    /// The case with this folder name; traps if there is none (a typo in a test).
    static func named(_ name: String) -> CheckpointCase {
        guard let found = all.first(where: { $0.name == name }) else {
            preconditionFailure("no recorded case named \(name)")
        }
        return found
    }

    /// Cases whose result must equal the reference's.
    static var benign: [CheckpointCase] {
        all.filter { if case .matchesReference = $0.expectation { true } else { false } }
    }

    /// Cases that must be refused before anything is written.
    static var refused: [CheckpointCase] {
        all.filter { !$0.mustBeAccepted }
    }

    /// Cases crafted to escape the root (refused or contained).
    static var hostile: [CheckpointCase] {
        all.filter(\.hostile)
    }
}
