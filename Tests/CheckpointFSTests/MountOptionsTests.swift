import Testing
@testable import CheckpointMount

/// The `-o` options and the mount table parser, without mounting anything.
@Suite struct MountOptionsTests {
    @Test func optionsAreSplitAtUnescapedCommas() throws {
        var options = MountOptions()
        try options.add("allow_other,max_read=65536")
        try options.add("fsname=a\\,b")
        #expect(options.fuseOptions == ["allow_other", "max_read=65536", "fsname=a,b"])
        #expect(options.maxRead == 65536)
        #expect(!options.debug)
    }

    @Test func sessionArgumentsAreReadOnlyAndEscaped() throws {
        var options = MountOptions()
        try options.add("debug")
        let arguments = options.sessionArguments(source: "/ck,1\\x")
        #expect(arguments == [
            "checkpointfs", "-o",
            "ro,nosuid,nodev,default_permissions,fsname=/ck\\,1\\\\x,subtype=checkpointfs,debug",
            "-d",
        ])
    }

    @Test func readAheadIsTheDaemonsAndNotPassedToLibfuse() throws {
        var options = MountOptions()
        #expect(options.readAheadKibibytes == 1024)
        try options.add("allow_other,read_ahead_kb=4096")
        try options.add("read_ahead_kb=0")
        #expect(options.readAheadKibibytes == 0)
        #expect(options.fuseOptions == ["allow_other"])
    }

    @Test(arguments: ["rw", "suid", "dev", "allow_other,suid", "max_read=0", "max_read=x", "a,,b",
                      "read_ahead_kb=", "read_ahead_kb=-1", "read_ahead_kb=1k"])
    func invalidOptionsAreRefused(list: String) {
        var options = MountOptions()
        #expect(throws: MountError.self) { try options.add(list) }
    }

    @Test func mountTableLinesAreParsedWithTheirEscapes() throws {
        let line = "52 27 0:47 / /tmp/a\\040b ro,nosuid master:1 - fuse.checkpointfs "
            + "/ck\\134x ro,user_id=0,group_id=0,allow_other"
        let entry = try #require(MountTable.parse(Array(line.utf8)))
        #expect(entry == MountTableEntry(
            major: 0, minor: 47, mountPoint: "/tmp/a b", type: "fuse.checkpointfs",
            source: "/ck\\x", mountOptions: "ro,nosuid",
            superOptions: "ro,user_id=0,group_id=0,allow_other"))
        #expect(MountTable.parse(Array("52 27 0:47 / /x rw".utf8)) == nil)
    }

    @Test func theMountTableShowsTheRoot() throws {
        #expect(try MountTable.entry(at: "/") != nil)
    }

    @Test func aMountPointIsResolvedWithoutTouchingItsLastName() throws {
        #expect(try MountPoint.resolveWithoutLast("/proc//self/") == "/proc/self")
        #expect(try MountPoint.resolveWithoutLast("/no-such-mount") == "/no-such-mount")
        #expect(throws: (any Error).self) { try MountPoint.resolveWithoutLast("/no/such") }
    }
}
