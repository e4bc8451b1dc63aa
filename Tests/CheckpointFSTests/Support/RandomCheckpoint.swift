import CSystem
import Foundation
import Glibc

/// A deterministic pseudo-random source (SplitMix64): the same seed, the same tree.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

/// A generated lower root and checkpoint whose names collide on purpose: members replace
/// lower entries of every type, link to lower files and to each other, go through lower
/// and member symlinks, repeat, and the deleted list removes some of what they made.
///
/// Directories take their names from one small set and leaves mostly from another, so most
/// checkpoints apply; a share of names crosses over, making type conflicts, and a share of
/// checkpoints is refused (a member under a file, a symlink leading nowhere).
struct RandomCheckpoint {
    let seed: UInt64
    private var random: SeededGenerator
    private static let directoryNames = ["a", "b", "c"]
    private static let leafNames = ["f", "g", "h", "a"]
    private(set) var lowerFiles: [String] = []
    private(set) var lowerDirectories: [String] = [""]
    /// Lower symlinks that lead to a lower directory.
    private(set) var lowerDirectoryLinks: [String] = []

    init(seed: UInt64) {
        self.seed = seed
        random = SeededGenerator(seed: seed)
    }

    private mutating func pick<T>(_ items: [T]) -> T {
        items[Int(random.next() % UInt64(items.count))]
    }

    private mutating func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }

    private static func join(_ parent: String, _ name: String) -> String {
        parent.isEmpty ? name : parent + "/" + name
    }

    /// Builds the lower root in `root` (an existing empty directory).
    mutating func buildLower(in root: String) throws {
        try fill(root: root, relative: "", depth: 0)
        // Symlinks last, so they can lead to directories that exist.
        for _ in 0..<(2 + Int(random.next() % 4)) {
            let parent = pick(lowerDirectories)
            let name = pick(["s", "t", "u"])
            let path = Self.join(parent, name)
            var info = stat()
            if lstat(root + "/" + path, &info) == 0 { continue }
            let target: String
            if chance(15) {
                target = "/missing/" + pick(Self.directoryNames)
            } else {
                let directory = pick(lowerDirectories)
                let depth = parent.split(separator: "/").count
                target = chance(50) ? "/" + directory
                    : String(repeating: "../", count: depth) + directory
                lowerDirectoryLinks.append(path)
            }
            try posix("symlink", path) { symlink(target.isEmpty ? "." : target, root + "/" + path) }
        }
    }

    private mutating func fill(root: String, relative: String, depth: Int) throws {
        if depth < 3 {
            for _ in 0..<Int(random.next() % 3) {
                let path = Self.join(relative, pick(Self.directoryNames))
                var info = stat()
                if lstat(root + "/" + path, &info) == 0 { continue }
                try posix("mkdir", path) { mkdir(root + "/" + path, 0o755) }
                lowerDirectories.append(path)
                try fill(root: root, relative: path, depth: depth + 1)
                try metadata(root + "/" + path, directory: true)
            }
        }
        for _ in 0..<(1 + Int(random.next() % 4)) {
            let path = Self.join(relative, pick(Self.leafNames))
            let full = root + "/" + path
            var info = stat()
            if lstat(full, &info) == 0 { continue }
            switch random.next() % 100 {
            case 0..<70:
                try write(full, contents: "lower \(path) \(random.next() % 1000)\n")
                try metadata(full, directory: false)
                lowerFiles.append(path)
            case 70..<85 where !lowerFiles.isEmpty:
                let target = root + "/" + pick(lowerFiles)
                try posix("link", path) { link(target, full) }
            default:
                try posix("mkfifo", path) { mkfifo(full, 0o640) }
            }
        }
    }

    private mutating func metadata(_ path: String, directory: Bool) throws {
        let owner: UInt32 = chance(25) ? 1000 : 0
        try posix("chown", path) { chown(path, owner, owner) }
        let modes: [mode_t] = directory ? [0o755, 0o700, 0o1777] : [0o644, 0o600, 0o755, 0o4755]
        let mode = pick(modes)
        try posix("chmod", path) { chmod(path, mode) }
        if chance(20) {
            let value = Array("v\(random.next() % 10)".utf8)
            try posix("setxattr", path) { setxattr(path, "user.lower", value, value.count, 0) }
        }
        var times = [timespec(tv_sec: 1_577_836_800 + Int(random.next() % 1000), tv_nsec: 0),
                     timespec(tv_sec: 1_577_836_800, tv_nsec: 0)]
        times[1] = times[0]
        try posix("utimensat", path) { utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) }
    }

    /// A parent for a member: a lower or member directory, one reached through a lower
    /// symlink, or a new one made implicitly.
    private mutating func memberParent(_ memberDirectories: [String]) -> String {
        switch random.next() % 100 {
        case 0..<15 where !lowerDirectoryLinks.isEmpty: return pick(lowerDirectoryLinks)
        case 15..<30: return Self.join(pick(lowerDirectories), "n" + pick(Self.directoryNames))
        case 30..<50 where !memberDirectories.isEmpty: return pick(memberDirectories)
        default: return pick(lowerDirectories)
        }
    }

    /// The diff tar's bytes and the deleted list.
    mutating func makeCheckpoint() -> (tar: [UInt8], deleted: [String]) {
        var entries: [TarBuilder.Entry] = []
        var memberFiles: [String] = []
        var memberDirectories: [String] = []
        for _ in 0..<(8 + Int(random.next() % 25)) {
            let parent = memberParent(memberDirectories)
            let mtime = 1_600_000_000 + Int64(random.next() % 1000)
            var entry: TarBuilder.Entry
            switch random.next() % 100 {
            case 0..<40:
                let path = Self.join(parent, pick(Self.leafNames))
                entry = .file(path, "member \(path) \(random.next() % 1000)\n",
                              mode: pick([0o644, 0o600, 0o2755]))
                memberFiles.append(path)
            case 40..<62:
                let path = Self.join(parent, pick(Self.directoryNames))
                entry = .directory(path + (chance(50) ? "/" : ""), mode: pick([0o755, 0o750]))
                memberDirectories.append(path)
            case 62..<72:
                let path = Self.join(parent, pick(["s", "t", "f"]))
                let target = pick(lowerDirectories + memberDirectories)
                entry = .symlink(path, to: chance(50) ? "/" + target : target)
            case 72..<88:
                let name = Self.join(parent, pick(Self.leafNames))
                // A link to itself is always refused: keep those rare.
                let candidates = (memberFiles + lowerFiles).filter { $0 != name || chance(5) }
                guard !candidates.isEmpty else { continue }
                entry = .hardLink(name, to: pick(candidates))
            default:
                entry = TarBuilder.Entry(name: Array(Self.join(parent, "p").utf8),
                                         type: UInt8(ascii: "6"), mode: 0o600)
            }
            entry.mtime = mtime
            entry.uid = chance(20) ? 1000 : 0
            entry.gid = entry.uid
            if chance(15), entry.type == UInt8(ascii: "0") || entry.type == UInt8(ascii: "5") {
                entry.pax.append(("SCHILY.xattr.user.member",
                                  Array("m\(random.next() % 9)".utf8)))
            }
            entries.append(entry)
        }
        var deleted: [String] = []
        for _ in 0..<Int(random.next() % 5) {
            let pool = lowerFiles + lowerDirectories.dropFirst() + memberFiles + memberDirectories
            guard !pool.isEmpty else { break }
            deleted.append("/" + pick(pool))
        }
        return (TarBuilder.archive(entries), deleted)
    }

    /// Builds seed `seed`'s lower root in `directory/lower` and its checkpoint directory in
    /// `directory/checkpoint`; returns both paths.
    static func make(seed: UInt64, in directory: String) throws
        -> (lower: String, checkpoint: String)
    {
        let lower = directory + "/lower"
        let checkpoint = directory + "/checkpoint"
        for path in [lower, checkpoint] {
            guard mkdir(path, 0o755) == 0 else {
                throw GeneratorError(call: "mkdir", path: path, errno: errno)
            }
        }
        var generator = RandomCheckpoint(seed: seed)
        try generator.buildLower(in: lower)
        let (tar, deleted) = generator.makeCheckpoint()
        try Data(tar).write(to: URL(fileURLWithPath: checkpoint + "/rootfs-diff.tar"))
        try JSONEncoder().encode(deleted)
            .write(to: URL(fileURLWithPath: checkpoint + "/deleted.files"))
        return (lower, checkpoint)
    }

    private func write(_ path: String, contents: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw GeneratorError(call: "open", path: path, errno: errno) }
        defer { close(fd) }
        let bytes = Array(contents.utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count else {
            throw GeneratorError(call: "write", path: path, errno: errno)
        }
    }

    private func posix(_ call: String, _ path: String, _ body: () -> Int32) throws {
        guard body() == 0 else { throw GeneratorError(call: call, path: path, errno: errno) }
    }
}

struct GeneratorError: Error, CustomStringConvertible {
    var call: String
    var path: String
    var errno: Int32
    var description: String { "\(call) \(path): \(String(cString: strerror(errno)))" }
}
