import CheckpointFS
import CSystem
import Glibc

/// One line of `/proc/self/mountinfo` (proc(5)), the fields a FUSE mount is found by.
public struct MountTableEntry: Sendable, Equatable {
    /// `major:minor` of the mount's device; for FUSE the minor is the connection number
    /// under `/sys/fs/fuse/connections`.
    public var major: UInt32
    public var minor: UInt32
    public var mountPoint: String
    /// Such as `fuse.checkpointfs`.
    public var type: String
    /// The source: for a view, the checkpoint path.
    public var source: String
    /// Options of this mount, such as `ro,nosuid,nodev,relatime`.
    public var mountOptions: String
    /// Options of the file system, such as `ro,user_id=0,group_id=0,allow_other`.
    public var superOptions: String
}

/// The mounts this process sees, read from `/proc/self/mountinfo`.
public enum MountTable {
    /// Every mount, in the kernel's order: a later entry at the same point is on top.
    public static func current() throws(SystemError) -> [MountTableEntry] {
        let file = try FileDescriptor.open(atPath: "/proc/self/mountinfo")
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes {
                Glibc.read(file.raw, $0.baseAddress, $0.count)
            }
            if count == 0 { break }
            if count < 0 {
                if ckpt_errno() == EINTR { continue }
                throw SystemError(errno: ckpt_errno(), operation: "read", path: file.path)
            }
            text += chunk[0..<count]
        }
        return text.split(separator: 0x0a).compactMap { parse(Array($0)) }
    }

    /// The top mount at `mountPoint`, an absolute path without symlinks.
    public static func entry(at mountPoint: String) throws(SystemError) -> MountTableEntry? {
        try current().last { $0.mountPoint == mountPoint }
    }

    /// Parses `ID PARENT MAJOR:MINOR ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER`.
    static func parse(_ line: [UInt8]) -> MountTableEntry? {
        let fields = line.split(separator: 0x20).map { Array($0) }
        guard fields.count >= 7, let separator = fields.firstIndex(of: [0x2d]),
              separator >= 6, separator + 3 < fields.count
        else { return nil }
        let device = fields[2].split(separator: 0x3a)
        guard device.count == 2,
              let major = UInt32(String(decoding: device[0], as: UTF8.self)),
              let minor = UInt32(String(decoding: device[1], as: UTF8.self))
        else { return nil }
        return MountTableEntry(
            major: major, minor: minor,
            mountPoint: unescape(fields[4]),
            type: unescape(fields[separator + 1]),
            source: unescape(fields[separator + 2]),
            mountOptions: unescape(fields[5]),
            superOptions: unescape(fields[separator + 3]))
    }

    /// The kernel writes space, tab, newline and backslash in a field as `\ooo` octal.
    private static func unescape(_ field: [UInt8]) -> String {
        var bytes: [UInt8] = []
        var index = 0
        while index < field.count {
            if field[index] == 0x5c, index + 3 < field.count,
               let value = UInt8(String(decoding: field[index + 1...index + 3], as: UTF8.self),
                                 radix: 8)
            {
                bytes.append(value)
                index += 4
            } else {
                bytes.append(field[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
