import Testing
@testable import CheckpointFS

/// The apply skips cleaning a member's parent when its bytes equal the previous member's;
/// that is sound only if splitting at the last `/` never changes what the name means.
@Suite struct RootPathTests {
    /// Every name of up to four parts drawn from ordinary names, `.`, `..`, empty parts
    /// (doubled or leading slashes), a NUL and over-long components, with and without a
    /// trailing slash.
    static let names: [PathBytes] = {
        let long = PathBytes(repeating: UInt8(ascii: "x"), count: 256)
        let parts: [PathBytes] = [
            Array("a".utf8), Array("bb".utf8), Array(".".utf8), Array("..".utf8), [],
            Array("...".utf8), Array(".h".utf8), [UInt8(ascii: "n"), 0], long,
        ]
        var names: [PathBytes] = [[]]
        var level: [PathBytes] = [[]]
        for _ in 0..<4 {
            level = level.flatMap { prefix in
                parts.map { prefix.isEmpty ? $0 : prefix + [UInt8(ascii: "/")] + $0 }
            }
            names += level
        }
        return names + names.map { $0 + [UInt8(ascii: "/")] }
            + [PathBytes(repeating: UInt8(ascii: "y"), count: 4096)]
    }()

    @Test func splitLastKeepsTheComponents() {
        var split = 0
        for name in Self.names {
            guard let (parent, last) = RootPath.splitLast(name) else {
                continue
            }
            split += 1
            let whole = RootPath.components(of: name)
            switch RootPath.components(of: PathBytes(parent)) {
            case .success(let parentComponents):
                #expect(whole == .success(parentComponents + [PathBytes(last)]),
                        "\(name.displayPath)")
            case .failure(let reason):
                #expect(whole == .failure(reason), "\(name.displayPath)")
            }
        }
        // Many names end in an ordinary component: the property is not vacuous.
        #expect(split > Self.names.count / 8)
    }

    @Test func splitLastDeclinesWhatCleaningChanges() {
        for name in [".", "..", "a/.", "a/..", "a/", "", "a/b\0"] {
            #expect(RootPath.splitLast(Array(name.utf8)) == nil, "\(name)")
        }
        #expect(RootPath.splitLast(Array("a/b".utf8)).map { Array($0.last) } == Array("b".utf8))
    }
}
