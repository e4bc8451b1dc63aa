import CArchive

/// The numbers of a header that a file system must be able to hold as they are.
///
/// Tar can carry owners and device numbers of up to 64 bits (base-256 fields, PAX records);
/// the kernel cannot. chown(2) takes 32-bit ids and reads `4294967295` as "leave it alone",
/// and mknod(2) passes a 32-bit device number: 12 bits of major, 20 of minor (glibc answers
/// EINVAL beyond). A member outside these ranges would be shown one way by the view and fail
/// or come out another way in the commit, halfway through, so it is refused up front.
enum HeaderRanges {
    static let ids: ClosedRange<Int64> = 0...(Int64(UInt32.max) - 1)
    static let deviceMajors: ClosedRange<UInt64> = 0...0xfff
    static let deviceMinors: ClosedRange<UInt64> = 0...0xf_ffff

    /// The owner of `entry`, checked. `member` is only rendered for an error: indexing
    /// calls this for every member.
    /// - Throws: `CheckpointError.malformedArchive` naming the member.
    static func owner(
        of entry: OpaquePointer,
        member: @autoclosure () -> String,
        file: String
    ) throws(CheckpointError) -> (uid: UInt32, gid: UInt32) {
        let uid = archive_entry_uid(entry)
        let gid = archive_entry_gid(entry)
        for (label, value) in [("uid", uid), ("gid", gid)] where !ids.contains(value) {
            throw .malformedArchive(
                file: file, member: member(),
                reason: "\(label) \(value) is outside what chown(2) can set (0 to "
                    + "\(ids.upperBound))")
        }
        return (UInt32(uid), UInt32(gid))
    }

    /// The device numbers of a device member, checked.
    /// - Throws: `CheckpointError.malformedArchive` naming the member.
    static func device(
        of entry: OpaquePointer,
        member: @autoclosure () -> String,
        file: String
    ) throws(CheckpointError) -> (major: UInt32, minor: UInt32) {
        let major = UInt64(archive_entry_rdevmajor(entry))
        let minor = UInt64(archive_entry_rdevminor(entry))
        guard deviceMajors.contains(major), deviceMinors.contains(minor) else {
            throw .malformedArchive(
                file: file, member: member(),
                reason: "device number \(major):\(minor) does not fit mknod(2) (major up to "
                    + "\(deviceMajors.upperBound), minor up to \(deviceMinors.upperBound))")
        }
        return (UInt32(major), UInt32(minor))
    }
}
