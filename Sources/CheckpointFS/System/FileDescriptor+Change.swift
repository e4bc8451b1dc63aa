import CSystem
import Glibc

/// The calls that change a tree, each relative to this directory descriptor and never
/// following a final symlink.
extension FileDescriptor {
    /// mkdirat(2).
    func makeDirectory(_ name: PathBytes, mode: mode_t) throws(SystemError) {
        _ = try name.withCPath { (cName) throws(SystemError) in
            try check("mkdirat", childPath(name)) { mkdirat(raw, cName, mode) }
        }
    }

    /// symlinkat(2).
    func makeSymlink(_ name: PathBytes, target: PathBytes) throws(SystemError) {
        _ = try name.withCPath { (cName) throws(SystemError) in
            try target.withCPath { (cTarget) throws(SystemError) in
                try check("symlinkat", childPath(name)) { symlinkat(cTarget, raw, cName) }
            }
        }
    }

    /// mknodat(2) of a FIFO or device.
    func makeNode(_ name: PathBytes, mode: mode_t, device: UInt64) throws(SystemError) {
        _ = try name.withCPath { (cName) throws(SystemError) in
            try check("mknodat", childPath(name)) { mknodat(raw, cName, mode, dev_t(device)) }
        }
    }

    /// linkat(2) without AT_SYMLINK_FOLLOW: a link to a symlink links the symlink.
    func makeHardLink(
        _ name: PathBytes,
        to targetName: PathBytes,
        in targetDirectory: FileDescriptor
    ) throws(SystemError) {
        _ = try name.withCPath { (cName) throws(SystemError) in
            try targetName.withCPath { (cTarget) throws(SystemError) in
                try check("linkat", childPath(name)) {
                    linkat(targetDirectory.raw, cTarget, raw, cName, 0)
                }
            }
        }
    }

    /// renameat(2) of `name` to `newName`, both in this directory: replaces `newName` in one
    /// step, so a reader sees the old file or the new one, never a part.
    func renameChild(_ name: PathBytes, to newName: PathBytes) throws(SystemError) {
        _ = try name.withCPath { (cName) throws(SystemError) in
            try newName.withCPath { (cNewName) throws(SystemError) in
                try check("renameat", childPath(newName)) {
                    renameat(raw, cName, raw, cNewName)
                }
            }
        }
    }

    /// fchownat(2) with AT_EMPTY_PATH: works on O_PATH descriptors, symlinks included.
    func changeOwner(uid: UInt32, gid: UInt32) throws(SystemError) {
        _ = try check("fchownat", path) { fchownat(raw, "", uid, gid, CKPT_AT_EMPTY_PATH) }
    }

    /// chmod(2) through `/proc/self/fd`: fchmod(2) refuses O_PATH descriptors.
    func changeMode(_ mode: UInt32) throws(SystemError) {
        let proc = procPath
        _ = try check("chmod", path) { chmod(proc, mode_t(mode)) }
    }

    /// fchmod(2), for a descriptor opened for reading or writing: no path to resolve in
    /// `/proc`, as `changeMode` has.
    func changeModeOfOpenFile(_ mode: UInt32) throws(SystemError) {
        _ = try check("fchmod", path) { fchmod(raw, mode_t(mode)) }
    }

    /// futimens(2): the mtime given, the atime the same.
    func setTimes(_ time: Timestamp) throws(SystemError) {
        var times = [time.timespec, time.timespec]
        _ = try check("futimens", path) { futimens(raw, &times) }
    }

    /// utimensat(2) of a name, AT_SYMLINK_NOFOLLOW.
    func setTimes(of name: PathBytes, _ time: Timestamp) throws(SystemError) {
        var times = [time.timespec, time.timespec]
        _ = try name.withCPath { (cName) throws(SystemError) in
            try check("utimensat", childPath(name)) {
                utimensat(raw, cName, &times, CKPT_AT_SYMLINK_NOFOLLOW)
            }
        }
    }

    /// unlinkat(2) of `name`, a directory with everything below it; a missing name is not
    /// an error. Each directory is opened with O_NOFOLLOW, so a symlink is removed, never
    /// followed.
    func removeTree(_ name: PathBytes) throws(SystemError) {
        guard let info = try statChild(name) else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            let directory = try openChild(name, flags: O_RDONLY | CKPT_O_DIRECTORY)
            for entry in try directory.directoryEntries() {
                try directory.removeTree(entry.name)
            }
        }
        let flags = info.st_mode & S_IFMT == S_IFDIR ? CKPT_AT_REMOVEDIR : 0
        let result = name.withCPath { unlinkat(raw, $0, flags) }
        if result != 0 && ckpt_errno() != ENOENT {
            throw SystemError(errno: ckpt_errno(), operation: "unlinkat", path: childPath(name))
        }
    }
}

extension Timestamp {
    var timespec: Glibc.timespec {
        Glibc.timespec(tv_sec: Int(seconds), tv_nsec: Int(nanoseconds))
    }
}
