import Testing
@testable import CheckpointFS

@Suite struct PathBytesTests {
    @Test func displayEscapesInvalidUTF8() {
        let bytes: PathBytes = Array("bad".utf8) + [0xff, 0xfe] + Array(".txt".utf8)
        #expect(bytes.displayPath == "bad\\xff\\xfe.txt")
        #expect(PathBytes(path: "日本").displayPath == "日本")
    }
}
