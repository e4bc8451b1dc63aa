import Glibc

/// The small lower root every planner input is applied to, made once per process.
///
/// It holds what hostile names like to meet: symlinks to `/`, to `..`, to each other in a
/// loop and to a directory, a hard-linked pair, a FIFO, a deep directory and an empty one.
/// Around it sit canary files, and `fingerprint()` notes the status change time of each, so
/// a plan that wrote anything, inside the root or next to it, is caught.
enum FuzzLowerRoot {
    static let scratch = FuzzScratch.directory + "/tree"
    static let root = scratch + "/root"

    private static let directories = [
        "", "root", "root/etc", "root/data", "root/empty", "root/deep", "root/deep/a",
        "root/deep/a/b", "root/usr", "root/usr/lib",
    ]
    private static let files = [
        "canary", "rootx", "root/etc/passwd", "root/etc/motd", "root/data/a",
        "root/deep/a/b/file", "root/usr/lib/libc.so",
    ]
    private static let symlinks = [
        ("root/abs", "/"), ("root/up", ".."), ("root/loop1", "loop2"), ("root/loop2", "loop1"),
        ("root/datalink", "data"), ("root/lib", "usr/lib"), ("root/dangling", "/missing/x"),
        ("root/etclink", "/etc"),
    ]

    /// Makes the tree on first use and returns the root's path.
    static let made: String = {
        for directory in directories {
            let path = directory.isEmpty ? scratch : scratch + "/" + directory
            if mkdir(path, 0o755) != 0 { fuzzFailure("mkdir \(path): errno \(errno)") }
        }
        for file in files {
            _ = FuzzScratch.write(Array("contents of \(file)\n".utf8), to: "tree/" + file)
        }
        for (name, target) in symlinks where symlink(target, scratch + "/" + name) != 0 {
            fuzzFailure("symlink \(name): errno \(errno)")
        }
        if link(scratch + "/root/data/a", scratch + "/root/data/b") != 0 {
            fuzzFailure("link data/b: errno \(errno)")
        }
        if mkfifo(scratch + "/root/fifo", 0o644) != 0 { fuzzFailure("mkfifo: errno \(errno)") }
        return root
    }()

    /// The status change times of every entry of the tree, and of its directories' listings.
    static func fingerprint() -> [Int] {
        var result: [Int] = []
        let names = directories.map { $0.isEmpty ? scratch : scratch + "/" + $0 }
            + files.map { scratch + "/" + $0 } + symlinks.map { scratch + "/" + $0.0 }
            + [scratch + "/root/data/b", scratch + "/root/fifo"]
        for path in names {
            var info = stat()
            if lstat(path, &info) != 0 { fuzzFailure("\(path) is gone: errno \(errno)") }
            result += [info.st_ctim.tv_sec, info.st_ctim.tv_nsec, Int(info.st_nlink)]
        }
        return result
    }
}
