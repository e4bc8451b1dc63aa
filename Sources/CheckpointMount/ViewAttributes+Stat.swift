import CheckpointFS
import Glibc

extension ViewAttributes {
    /// The attributes as the `struct stat` libfuse sends to the kernel.
    ///
    /// `st_blksize` stays 0, so the kernel reports the superblock's block size (a page).
    var stat: Glibc.stat {
        var info = Glibc.stat()
        info.st_ino = ino_t(inode)
        info.st_mode = mode
        info.st_nlink = nlink_t(nlink)
        info.st_uid = uid
        info.st_gid = gid
        info.st_size = off_t(size)
        info.st_blocks = blkcnt_t(blocks)
        info.st_rdev = dev_t(rdev)
        info.st_mtim = mtime
        info.st_ctim = ctime
        info.st_atim = atime
        return info
    }
}
