import Testing
@testable import CheckpointFS

@Suite struct ChildNameTests {
    /// Names on both sides of the inline capacity of 15 bytes.
    static let lengths = [0, 1, 7, 8, 9, 14, 15, 16, 17, 40]

    private func name(_ length: Int, last: UInt8 = 0x61) -> PathBytes {
        (0..<length).map { $0 == length - 1 ? last : UInt8(0x41 + $0 % 26) }
    }

    @Test func keyIsSixteenBytes() {
        #expect(MemoryLayout<ChildName>.size == 16)
        #expect(MemoryLayout<InlineName>.size == 16)
    }

    @Test(arguments: lengths) func bytesRoundTrip(length: Int) {
        let bytes = name(length)
        #expect(ChildName(bytes).bytes == bytes)
    }

    @Test func emptyName() {
        #expect(ChildName([]).bytes == [])
        #expect(ChildName([]) == ChildName([]))
        #expect(ChildName([]) != ChildName([0]))
    }

    @Test func arbitraryBytes() {
        // Not UTF-8, NUL and 0xff included: names are bytes to the view.
        let bytes: PathBytes = [0xff, 0x00, 0xfe, 0x80, 0xc3, 0x28, 0x00, 0x01, 0xff]
        for length in 0...bytes.count {
            let prefix = Array(bytes.prefix(length))
            #expect(ChildName(prefix).bytes == prefix)
        }
        let long = bytes + bytes
        #expect(ChildName(long).bytes == long)
        #expect(ChildName([0x00]) != ChildName([0x00, 0x00]))
        #expect(ChildName([0xff]) != ChildName([0xff, 0x00]))
    }

    @Test(arguments: lengths) func equalNamesAreEqualKeys(length: Int) {
        let first = ChildName(name(length))
        let second = ChildName(Array(name(length)))
        #expect(first == second)
        #expect(first.hashValue == second.hashValue)
    }

    @Test(arguments: lengths.filter { $0 > 0 }) func lastByteDistinguishes(length: Int) {
        #expect(ChildName(name(length, last: 0x61)) != ChildName(name(length, last: 0x62)))
    }

    @Test func lengthsAcrossTheBoundaryDiffer() {
        // A name and the same name one byte longer or shorter, inline against heap.
        let keys = (13...18).map { ChildName(PathBytes(repeating: 0x78, count: $0)) }
        #expect(Set(keys).count == keys.count)
        for (index, key) in keys.enumerated() {
            #expect(key.bytes.count == 13 + index)
        }
    }

    @Test func dictionaryFindsEveryForm() {
        var children: [ChildName: Int] = [:]
        for length in Self.lengths { children[ChildName(name(length))] = length }
        #expect(children.count == Self.lengths.count)
        for length in Self.lengths {
            #expect(children[ChildName(name(length))] == length)
        }
        #expect(children[ChildName(name(16, last: 0x7a))] == nil)
        #expect(children[ChildName(name(15, last: 0x7a))] == nil)
    }
}
