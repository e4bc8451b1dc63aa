import CSystem
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
struct RandomCheckpoint {
    let seed: UInt64
    private var random: SeededGenerator
    private static let names = ["a", "b", "c", "d", "e"]
    private(set) var lowerFiles: [String] = []
    private(set) var lowerPaths: [String] = []

    init(seed: UInt64) {
        self.seed = seed
        random = SeededGenerator(seed: seed)
    }

    private mutating func pick<T>(_ items: [T]) -> T {
        items[Int(random.next() % UInt64(items.count))]
    }

    private mutating func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }

    private mutating func randomPath(depth: Int) -> String {
        (0..<depth).map { _ in pick(Self.names) }.joined(separator: "/")
    }

    /// Builds the lower root in `root` (an existing empty directory).
    mutating func buildLower(in root: String) throws {
        try fill(directory: root, relative: "", depth: 0)
    }

    private mutating func fill(directory: String, relative: String, depth: Int) throws {
        let count = depth == 0 ? 5 : Int(random.next() % 4)
        for _ in 0..<count {
            let name = pick(Self.names)
            let path = directory + "/" + name
            let rel = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            if lstat(path, &info) == 0 { continue }
            let roll = random.next() % 100
            switch roll {
            case 0..<35 where depth < 3:
                try posix("mkdir", path) { mkdir(path, 0o755) }
                lowerPaths.append(rel)
                try fill(directory: path, relative: rel, depth: depth + 1)
                try metadata(path, directory: true)
            case 0..<70:
                try write(path, contents: "lower \(rel) \(random.next() % 1000)\n")
                try metadata(path, directory: false)
                lowerFiles.append(rel)
                lowerPaths.append(rel)
            case 70..<82:
                let target = chance(30) ? "/" + randomPath(depth: 2)
                    : (chance(30) ? "../" : "") + randomPath(depth: 1 + Int(random.next() % 2))
                try posix("symlink", path) { symlink(target, path) }
                lowerPaths.append(rel)
            case 82..<92 where !lowerFiles.isEmpty:
                let target = pick(lowerFiles)
                try posix("link", path) { link(directory.rootPrefix(relative) + "/" + target, path) }
                lowerPaths.append(rel)
            default:
                try posix("mkfifo", path) { mkfifo(path, 0o640) }
                lowerPaths.append(rel)
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

    /// The diff tar's bytes and the deleted list.
    mutating func makeCheckpoint() -> (tar: [UInt8], deleted: [String]) {
        var entries: [TarBuilder.Entry] = []
        var memberFiles: [String] = []
        let count = 8 + Int(random.next() % 25)
        for _ in 0..<count {
            let path = randomPath(depth: 1 + Int(random.next() % 3))
            let mtime = 1_600_000_000 + Int64(random.next() % 1000)
            var entry: TarBuilder.Entry
            switch random.next() % 100 {
            case 0..<40:
                entry = .file(path, "member \(path) \(random.next() % 1000)\n",
                              mode: pick([0o644, 0o600, 0o2755]))
                memberFiles.append(path)
            case 40..<65:
                entry = .directory(path + (chance(50) ? "/" : ""), mode: pick([0o755, 0o750]))
            case 65..<77:
                entry = .symlink(path, to: chance(40) ? "/" + randomPath(depth: 1)
                                 : randomPath(depth: 1 + Int(random.next() % 2)))
            case 77..<90:
                let candidates = memberFiles + lowerFiles
                guard !candidates.isEmpty else { continue }
                entry = .hardLink(path, to: pick(candidates))
            default:
                entry = TarBuilder.Entry(name: Array(path.utf8), type: UInt8(ascii: "6"),
                                         mode: 0o600)
            }
            entry.mtime = mtime
            entry.uid = chance(20) ? 1000 : 0
            entry.gid = entry.uid
            if chance(15), entry.type == UInt8(ascii: "0") || entry.type == UInt8(ascii: "5") {
                entry.pax.append(("SCHILY.xattr.user.member", Array("m\(random.next() % 9)".utf8)))
            }
            entries.append(entry)
        }
        var deleted: [String] = []
        for _ in 0..<Int(random.next() % 5) {
            deleted.append("/" + randomPath(depth: 1 + Int(random.next() % 2)))
        }
        return (TarBuilder.archive(entries), deleted)
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

private extension String {
    /// The root directory of a path `directory` whose position below the root is `relative`.
    func rootPrefix(_ relative: String) -> String {
        guard !relative.isEmpty else { return self }
        let depth = relative.split(separator: "/").count
        var parts = split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(depth)
        return parts.joined(separator: "/")
    }
}
