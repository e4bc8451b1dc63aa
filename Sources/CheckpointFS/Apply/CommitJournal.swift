import CSystem
import Glibc

/// The journal of a commit: a small file outside the root, in a private state directory,
/// that records the step a commit has reached, so that a commit that was stopped (killed,
/// out of space) is finished by running it again, and one that finished is not applied
/// twice.
///
/// A commit cannot be finished by applying the whole checkpoint again over what it left: a
/// hard link member may name a lower file that a later member replaces, and applied again it
/// links to the replacement; a member may pass through a directory that a later member turns
/// into a symlink, and applied again it writes where that symlink leads, or is refused. Only
/// the steps taken in order from the untouched root mean what the checkpoint means. So every
/// step is recorded before it is taken, and a commit run again takes up the step it stopped
/// in. Redoing a step from wherever it was interrupted ends where the step would have ended,
/// since a step removes what is at its name and makes it anew; the one exception is a
/// directory a member makes for a missing parent, whose owner and mode are set after
/// mkdir(2): those directories are recorded too, and set again.
///
/// There is one journal for each root, named after the root's device and inode; the root's
/// birth time tells it from a root made anew at the same inode, where the file system records
/// birth times. Records are lines, each appended with one write(2): a process that dies
/// leaves whole lines, which the kernel keeps. They are not synced, so a machine that loses
/// power may lose the latest writes of both the journal and the root, in no known order.
final class CommitJournal: ApplyRecorder {
    /// The root a journal is about.
    struct RootIdentity: Equatable {
        var device: UInt64
        var inode: UInt64
        /// The birth time; zero where the file system records none.
        var birthSeconds: Int64
        var birthNanoseconds: UInt32

        /// The identity of the open directory `root`, with fstat(2) and statx(2).
        init(_ root: FileDescriptor) throws(SystemError) {
            let info = try root.stat()
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            var seconds: Int64 = 0
            var nanoseconds: UInt32 = 0
            _ = try check("statx", root.path) {
                ckpt_birth_time(root.raw, &seconds, &nanoseconds)
            }
            birthSeconds = seconds
            birthNanoseconds = nanoseconds
        }

        init(device: UInt64, inode: UInt64, birthSeconds: Int64, birthNanoseconds: UInt32) {
            self.device = device
            self.inode = inode
            self.birthSeconds = birthSeconds
            self.birthNanoseconds = birthNanoseconds
        }
    }

    /// What a journal says about the commit it records.
    struct Header: Equatable {
        var root: RootIdentity
        /// The root's path when the commit began, for messages.
        var rootPath: String
        var fingerprint: String
        /// The checkpoint's name when the commit began, for messages.
        var checkpoint: String
        /// Deleted paths that remove content the diff tar put there.
        var warnings: [String]
    }

    /// How far the commit got.
    enum Progress: Equatable {
        /// Stopped in `step`; `implicitDirectories` are the directories that step began to
        /// make for missing parents.
        case unfinished(step: ApplyStep, implicitDirectories: [[PathBytes]])
        /// Finished at this time, in seconds since the epoch.
        case finished(at: Int64)
    }

    /// A journal as read from its file.
    struct Record {
        var header: Header
        var progress: Progress
        /// The length of the whole lines: a line cut short by a write that failed is not
        /// part of the journal.
        var validLength: Int
    }

    /// The journal's file.
    let path: String
    private let directory: FileDescriptor
    private let name: PathBytes
    private let header: Header
    private var file: FileDescriptor
    /// The step being taken, for errors that stop the commit.
    private(set) var currentStep: ApplyStep?

    private static let magic = "checkpointfs-commit-journal 1"
    /// The largest journal read: one line for each member and deleted path.
    private static let sizeLimit = 1 << 30

    private init(directory: FileDescriptor, name: PathBytes, header: Header,
                 file: FileDescriptor) {
        self.directory = directory
        self.name = name
        self.header = header
        self.file = file
        path = directory.childPath(name)
    }

    // MARK: Finding and reading

    /// Takes the lock that keeps two commits out of one root (and its journal): flock(2) on
    /// the root directory, released when its descriptor is closed. Nothing in the root
    /// changes.
    ///
    /// - Throws: `CommitJournalError.rootBusy` when another commit holds it.
    static func lock(_ root: FileDescriptor) throws {
        if flock(root.raw, LOCK_EX | LOCK_NB) == 0 { return }
        let code = ckpt_errno()
        if code == EWOULDBLOCK { throw CommitJournalError.rootBusy(root: root.path) }
        throw SystemError(errno: code, operation: "flock", path: root.path)
    }

    /// The directory of journals in `stateDirectory`; `nil` when there is none yet.
    static func existingDirectory(in stateDirectory: String) throws -> FileDescriptor? {
        let path = stateDirectory + "/commits"
        let fd = open(path, O_RDONLY | CKPT_O_DIRECTORY | CKPT_O_CLOEXEC)
        if fd < 0 && ckpt_errno() == ENOENT { return nil }
        guard fd >= 0 else {
            throw SystemError(errno: ckpt_errno(), operation: "open", path: path)
        }
        return FileDescriptor(adopting: fd, path: path)
    }

    /// The directory of journals in `stateDirectory`, made (mode 0700) where missing: only a
    /// commit that begins to write makes it.
    static func makeDirectory(in stateDirectory: String) throws -> FileDescriptor {
        for path in [stateDirectory, stateDirectory + "/commits"] {
            if mkdir(path, 0o700) != 0 && ckpt_errno() != EEXIST {
                throw SystemError(errno: ckpt_errno(), operation: "mkdir", path: path)
            }
        }
        return try FileDescriptor.openDirectory(atPath: stateDirectory + "/commits")
    }

    /// The name of the journal of a root.
    static func name(for root: RootIdentity) -> PathBytes {
        PathBytes(path: "\(root.device)-\(root.inode).journal")
    }

    /// Reads the journal `name` in `directory`; `nil` when there is none.
    ///
    /// - Throws: `CommitJournalError.unreadable` when the file is not a journal.
    static func read(_ name: PathBytes, in directory: FileDescriptor) throws -> Record? {
        guard try directory.statChild(name) != nil else { return nil }
        let file = try directory.openChild(name, flags: O_RDONLY)
        guard let bytes = try file.readToEnd(limit: sizeLimit) else {
            throw CommitJournalError.unreadable(journal: file.path,
                                                reason: "larger than \(sizeLimit) bytes")
        }
        return try parse(bytes, journal: file.path)
    }

    static func parse(_ bytes: [UInt8], journal: String) throws(CommitJournalError) -> Record {
        let validLength = (bytes.lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
        let lines = bytes[..<validLength].split(separator: UInt8(ascii: "\n"),
                                                omittingEmptySubsequences: false)
            .dropLast()
            .map { String(decoding: $0, as: UTF8.self) }
        var reader = JournalLines(lines: lines, journal: journal)

        guard try reader.next()?.joined(separator: " ") == magic else {
            throw reader.unreadable("it does not start with '\(magic)'")
        }
        let rootFields = try reader.fields("root", count: 5)
        let checkpointFields = try reader.fields("checkpoint", count: 2)
        guard let device = UInt64(rootFields[0]), let inode = UInt64(rootFields[1]),
              let birthSeconds = Int64(rootFields[2]),
              let birthNanoseconds = UInt32(rootFields[3]),
              let rootPath = Hex.decode(rootFields[4]),
              let checkpoint = Hex.decode(checkpointFields[1])
        else { throw reader.unreadable("its header is damaged") }
        var header = Header(
            root: RootIdentity(device: device, inode: inode, birthSeconds: birthSeconds,
                               birthNanoseconds: birthNanoseconds),
            rootPath: rootPath.displayPath, fingerprint: checkpointFields[0],
            checkpoint: checkpoint.displayPath, warnings: [])

        var progress = Progress.unfinished(step: .member(0), implicitDirectories: [])
        while let fields = try reader.next() {
            switch (fields.first, fields.count) {
            case ("warning", 2):
                guard let path = Hex.decode(fields[1]) else { throw reader.unreadable() }
                header.warnings.append(path.displayPath)
            case ("step", _):
                progress = .unfinished(step: try reader.step(fields), implicitDirectories: [])
            case ("implicit", 2):
                guard let path = Hex.decode(fields[1]),
                      case .unfinished(let step, var directories) = progress
                else { throw reader.unreadable() }
                directories.append(path.split(separator: UInt8(ascii: "/")).map(Array.init))
                progress = .unfinished(step: step, implicitDirectories: directories)
            case ("finished", 2):
                guard let time = Int64(fields[1]) else { throw reader.unreadable() }
                progress = .finished(at: time)
            default:
                throw reader.unreadable()
            }
        }
        return Record(header: header, progress: progress, validLength: validLength)
    }

    // MARK: Writing

    /// Writes a new journal for a commit that begins now, replacing any journal of that name.
    static func begin(
        _ name: PathBytes,
        in directory: FileDescriptor,
        header: Header
    ) throws -> CommitJournal {
        try replace(name, in: directory, with: headerText(header))
        let file = try directory.openChild(name, flags: O_WRONLY | O_APPEND)
        return CommitJournal(directory: directory, name: name, header: header, file: file)
    }

    /// Opens the journal of an unfinished commit to record the rest of it, dropping a line
    /// that a failed write left cut short.
    static func resume(
        _ name: PathBytes,
        in directory: FileDescriptor,
        record: Record
    ) throws -> CommitJournal {
        let file = try directory.openChild(name, flags: O_WRONLY | O_APPEND)
        _ = try check("ftruncate", file.path) { ftruncate(file.raw, off_t(record.validLength)) }
        return CommitJournal(directory: directory, name: name, header: record.header, file: file)
    }

    func willTake(_ step: ApplyStep) throws {
        currentStep = step
        switch step {
        case .member(let index): try append("step member \(index)")
        case .directoryTimes: try append("step times")
        case .deletedPath(let position): try append("step deleted \(position)")
        }
    }

    func willMakeImplicitDirectory(_ path: [PathBytes]) throws {
        try append("implicit " + Hex.encode(RootPath.join(path)))
    }

    /// Records that the commit is done: the journal is written anew with its header and the
    /// time, which is all a later run needs.
    func finish() throws {
        let now = Int64(time(nil))
        try Self.replace(name, in: directory, with: Self.headerText(header) + "finished \(now)\n")
        currentStep = nil
    }

    /// write(2) of one line at the end of the journal (O_APPEND).
    private func append(_ line: String) throws {
        let bytes = Array((line + "\n").utf8)
        try bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let rest = UnsafeRawBufferPointer(rebasing: raw[done...])
                done += try check("write", path) {
                    Glibc.write(file.raw, rest.baseAddress, rest.count)
                }
            }
        }
    }

    private static func headerText(_ header: Header) -> String {
        var text = magic + "\n"
        let root = header.root
        text += "root \(root.device) \(root.inode) \(root.birthSeconds) \(root.birthNanoseconds) "
            + Hex.encode(PathBytes(path: header.rootPath)) + "\n"
        text += "checkpoint \(header.fingerprint) "
            + Hex.encode(PathBytes(path: header.checkpoint)) + "\n"
        for warning in header.warnings {
            text += "warning " + Hex.encode(PathBytes(path: warning)) + "\n"
        }
        return text
    }

    /// Writes `text` to a new file renamed over `name`, so the journal is whole at all times.
    private static func replace(_ name: PathBytes, in directory: FileDescriptor, with text: String)
        throws
    {
        let temporary = name + PathBytes(path: ".new")
        let file = try directory.openChild(temporary, flags: O_WRONLY | O_CREAT | O_TRUNC,
                                           mode: 0o600)
        let bytes = Array(text.utf8)
        try bytes.withUnsafeBytes { try file.write($0, at: 0) }
        try directory.renameChild(temporary, to: name)
    }
}

/// A journal that cannot be used.
public enum CommitJournalError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file is not a journal this program wrote.
    case unreadable(journal: String, reason: String)
    /// The root has an unfinished commit of another checkpoint.
    case otherCommitUnfinished(root: String, checkpoint: String, journal: String)
    /// Another commit into the root is running.
    case rootBusy(root: String)

    public var description: String {
        switch self {
        case .unreadable(let journal, let reason):
            return "\(journal): not a commit journal: \(reason) (remove it to start afresh)"
        case .otherCommitUnfinished(let root, let checkpoint, let journal):
            return "\(root): a commit of another checkpoint, \(checkpoint), stopped before it "
                + "finished: run that commit again to finish it, or remove \(journal) to "
                + "leave the root as it is"
        case .rootBusy(let root):
            return "\(root): another commit into this root is running"
        }
    }
}

/// The lines of a journal, read one by one into fields.
private struct JournalLines {
    let lines: [String]
    let journal: String
    private var position = 0

    init(lines: [String], journal: String) {
        self.lines = lines
        self.journal = journal
    }

    /// The next line's fields, split at spaces; `nil` after the last line.
    mutating func next() throws(CommitJournalError) -> [String]? {
        guard position < lines.count else { return nil }
        position += 1
        return lines[position - 1].split(separator: " ", omittingEmptySubsequences: false)
            .map(String.init)
    }

    /// The fields after `keyword` of the next line, which must have `count` of them.
    mutating func fields(_ keyword: String, count: Int) throws(CommitJournalError) -> [String] {
        guard let fields = try next(), fields.first == keyword, fields.count == count + 1 else {
            throw unreadable("no '\(keyword)' line where one belongs")
        }
        return Array(fields.dropFirst())
    }

    /// The step of a `step` line.
    func step(_ fields: [String]) throws(CommitJournalError) -> ApplyStep {
        switch (fields.count, fields.dropFirst().first) {
        case (3, "member"?):
            if let index = Int(fields[2]), index >= 0 { return .member(index) }
        case (2, "times"?):
            return .directoryTimes
        case (3, "deleted"?):
            if let position = Int(fields[2]), position >= 0 { return .deletedPath(position) }
        default:
            break
        }
        throw unreadable()
    }

    func unreadable(_ reason: String? = nil) -> CommitJournalError {
        .unreadable(journal: journal, reason: reason ?? "line \(position) is damaged")
    }
}

/// Bytes as lowercase hexadecimal, so that any path fits in a line.
enum Hex {
    static func encode(_ bytes: PathBytes) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `nil` for text that is not an even number of hexadecimal digits.
    static func decode(_ text: String) -> PathBytes? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: PathBytes = []
        out.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else {
                return nil
            }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}
