/// The podman fixtures' base image: the lower root every podman checkpoint was made against.
enum BaseRootfs {
    /// `podman/base/base-rootfs.tar` in the fixtures.
    static var archivePath: String { Fixtures.path("podman/base/base-rootfs.tar") }

    /// Extracts the base image into `directory` (which must exist) with GNU tar, keeping
    /// numeric owners and permissions: `tar -xpf base-rootfs.tar --numeric-owner -C DIR`.
    static func extract(into directory: String) throws {
        try Command.succeed(
            "/usr/bin/tar", ["-xpf", archivePath, "--numeric-owner", "-C", directory])
    }
}
