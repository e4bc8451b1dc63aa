import Glibc
import Testing
@testable import CheckpointFS

@Suite struct ViewNodeTests {
    private func node(mtime: Timestamp? = nil) -> ViewNode {
        ViewNode(type: S_IFREG, permissions: 0o4755, uid: 1, gid: 2, mtime: mtime,
                 inode: 7, fromMember: true)
    }

    @Test func fitsAn80ByteBlock() throws {
        // One node per member: a field more moves every node to the next malloc block.
        // malloc_usable_size(3) through dlsym(3): Swift's Glibc module lacks <malloc.h>.
        typealias UsableSize = @convention(c) (UnsafeMutableRawPointer?) -> Int
        let symbol = try #require(dlsym(UnsafeMutableRawPointer(bitPattern: 0),
                                        "malloc_usable_size"))
        let made = node()
        let address = Unmanaged.passUnretained(made).toOpaque()
        #expect(unsafeBitCast(symbol, to: UsableSize.self)(address) <= 72)
    }

    @Test func typeAndPermissionsShareTheMode() {
        let made = node()
        #expect(made.type == S_IFREG)
        #expect(made.permissions == 0o4755)
        made.permissions &= ~UInt32(S_ISUID)
        #expect(made.permissions == 0o755)
        #expect(made.type == S_IFREG)
    }

    @Test func fromMemberIsApartFromTheMode() {
        let made = node()
        #expect(made.fromMember)
        made.fromMember = false
        #expect(!made.fromMember && made.type == S_IFREG && made.permissions == 0o4755)
        made.permissions = 0o7777
        made.fromMember = true
        #expect(made.fromMember && made.type == S_IFREG && made.permissions == 0o7777)
    }

    @Test func mtimeKeepsNil() {
        let time = Timestamp(seconds: -5, nanoseconds: 999_999_999)
        let made = node(mtime: time)
        #expect(made.mtime == time)
        made.mtime = nil
        #expect(made.mtime == nil)
        made.mtime = Timestamp(seconds: 0, nanoseconds: 0)
        #expect(made.mtime == Timestamp(seconds: 0, nanoseconds: 0))
        #expect(node().mtime == nil)
    }

    @Test func contentRoundTrips() throws {
        let made = node()
        guard case .none = made.content else { Issue.record("new node has content"); return }

        made.content = .member(ViewNode.MemberData(offset: 0, sparseMap: nil))
        guard case .member(let plain) = made.content else { Issue.record("no member"); return }
        #expect(plain.offset == 0 && plain.sparseMap == nil)

        let map = [TarMember.Segment(offset: 4096, length: 10)]
        made.content = .member(ViewNode.MemberData(offset: 512, sparseMap: map))
        guard case .member(let sparse) = made.content else { Issue.record("no member"); return }
        #expect(sparse.offset == 512 && sparse.sparseMap == map)

        made.content = .lower(Array("a/b".utf8))
        guard case .lower(let path) = made.content else { Issue.record("no lower"); return }
        #expect(path == Array("a/b".utf8))

        made.content = .member(ViewNode.MemberData(offset: 1024, sparseMap: nil))
        guard case .member(let again) = made.content else { Issue.record("no member"); return }
        #expect(again.offset == 1024 && again.sparseMap == nil)

        made.content = .none
        guard case .none = made.content else { Issue.record("content kept"); return }
    }

    @Test func xattrsAndRdevDefault() {
        let made = node()
        made.xattrs = []
        made.rdev = 0
        #expect(made.xattrs.isEmpty && made.rdev == 0)
        made.xattrs = [(name: Array("user.k".utf8), value: [0xff])]
        made.rdev = 0x0801
        #expect(made.xattrs.map(\.name) == [Array("user.k".utf8)])
        #expect(made.xattrs.first?.value == [0xff])
        #expect(made.rdev == 0x0801)
    }
}
