import CSystem
import Foundation
import Glibc
@testable import CheckpointFS

/// A fresh directory made with mkdtemp(3), removed with everything in it when the object goes
/// (or earlier, with `remove()`).
///
/// Removal works through directory descriptors, never follows a symlink, makes each directory
/// writable before emptying it (content may be root-owned with any mode; immutable files are
/// not supported), and does not descend into anything mounted below, such as a FUSE view a
/// test forgot to unmount: that part stays and `remove()` reports it.
final class TemporaryDirectory: @unchecked Sendable {
    /// The absolute path of the directory.
    let path: String
    private var removed = false

    /// Creates `$TMPDIR/checkpointfs-LABEL-XXXXXX` (or under `/tmp`).
    init(_ label: String = "test") throws(SystemError) {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap {
            $0.isEmpty ? nil : $0
        } ?? "/tmp"
        var template = Array("\(base)/checkpointfs-\(label)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else {
            throw SystemError(errno: ckpt_errno(), operation: "mkdtemp", path: base)
        }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) },
                      as: UTF8.self)
    }

    deinit {
        try? remove()
    }

    var url: URL { URL(fileURLWithPath: path, isDirectory: true) }

    /// The path of `relative` inside this directory.
    func path(_ relative: String) -> String {
        path + "/" + relative
    }

    /// Removes the directory and everything in it.
    func remove() throws(SystemError) {
        if removed { return }
        let top = try FileDescriptor.openDirectory(atPath: path)
        let device = try top.stat().st_dev
        try Self.empty(top, device: device)
        _ = try check("rmdir", path) { rmdir(path) }
        removed = true
    }

    /// Removes every entry of a directory, depth first.
    private static func empty(_ directory: FileDescriptor, device: dev_t) throws(SystemError) {
        _ = try check("fchmod", directory.path) { fchmod(directory.raw, 0o700) }
        for name in try directory.directoryEntries().map(\.name) {
            guard let info = try directory.statChild(name) else { continue }
            var flags: Int32 = 0
            if info.st_mode & 0o170_000 == 0o040_000 {
                // A different device below means a mount: leave it, rmdir then says EBUSY.
                if info.st_dev == device {
                    let child = try directory.openChild(name, flags: O_RDONLY | CKPT_O_DIRECTORY)
                    try empty(child, device: device)
                }
                flags = CKPT_AT_REMOVEDIR
            }
            _ = try name.withCPath { (cName) throws(SystemError) in
                try check("unlinkat", directory.childPath(name)) {
                    unlinkat(directory.raw, cName, flags)
                }
            }
        }
    }
}
