import CheckpointFS
import Glibc

/// libFuzzer entry: indexes arbitrary bytes as a diff tar.
///
/// The first byte chooses whether header checksums are repaired first (odd) or left as the
/// fuzzer made them (even), so both libarchive's checks and what lies behind them are
/// reached. The index must either refuse with a `CheckpointError` or describe members whose
/// data lies inside the file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTarIndex(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    guard let flags = input.first else { return 0 }
    let tar = flags & 1 == 1 ? TarChecksum.repaired(Array(input.dropFirst()))
        : Array(input.dropFirst())
    let path = FuzzScratch.write(tar, to: "input.tar")

    let index: TarIndex
    do {
        index = try TarIndex(path: path, displayName: "rootfs-diff.tar")
    } catch let error as CheckpointError {
        if !"\(error)".hasPrefix("rootfs-diff.tar: ") {
            fuzzFailure("a refusal that does not name the file: \(error)")
        }
        return 0
    } catch {
        fuzzFailure("TarIndex threw \(type(of: error)): \(error)")
    }

    for member in index.members {
        let (end, overflow) = member.dataOffset.addingReportingOverflow(member.storedSize)
        if member.dataOffset < 0 || member.storedSize < 0 || overflow || end > Int64(tar.count) {
            fuzzFailure("member \(member.index) '\(member.name.displayPath)': data "
                        + "\(member.dataOffset)+\(member.storedSize) outside \(tar.count) bytes")
        }
        if member.size < 0 { fuzzFailure("member \(member.index): size \(member.size)") }
        for segment in member.sparseMap ?? [] {
            if segment.offset < 0 || segment.length < 0
                || segment.offset > member.size - segment.length
            {
                fuzzFailure("member \(member.index): sparse segment \(segment.offset)+"
                            + "\(segment.length) outside its size \(member.size)")
            }
        }
    }
    return 0
}
