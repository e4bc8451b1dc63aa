import CheckpointFS
import Glibc

/// libFuzzer entry: plans a checkpoint over the fixed lower root of `FuzzLowerRoot`, then
/// walks the resulting view as the FUSE layer would.
///
/// An input is the deleted list, a NUL byte, then the diff tar (whose header checksums are
/// repaired, see `TarChecksum`); without a NUL byte it is all deleted list. A deleted list
/// that does not parse counts as none, so the tar is still planned. The plan must refuse
/// with a `CheckpointError` naming one of the two files, or give a view that `ViewWalk`
/// finds consistent; either way, nothing in or around the lower root may change.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRestorePlan(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let root = FuzzLowerRoot.made
    let before = FuzzLowerRoot.fingerprint()

    let split = input.firstIndex(of: 0) ?? input.endIndex
    let paths = (try? DeletedList.parse(Array(input[..<split]), file: "deleted.files")) ?? []
    let tar = TarChecksum.repaired(Array(input[min(split + 1, input.endIndex)...]))
    let tarPath = FuzzScratch.write(tar, to: "input.tar")

    do {
        let restore = Restore(
            index: try TarIndex(path: tarPath, displayName: "rootfs-diff.tar"),
            tarPath: tarPath,
            deletedList: DeletedPaths(displayName: "deleted.files", paths: paths))
        let view = try MergedView(restore: restore, rootPath: root)
        _ = try view.tree.changes()
        var walk = ViewWalk(view: view)
        walk.run()
    } catch let error as CheckpointError {
        let text = "\(error)"
        if !text.hasPrefix("rootfs-diff.tar: ") && !text.hasPrefix("deleted.files: ") {
            fuzzFailure("a refusal that names no file: \(text)")
        }
    } catch {
        fuzzFailure("planning threw \(type(of: error)): \(error)")
    }

    if FuzzLowerRoot.fingerprint() != before {
        fuzzFailure("planning changed the lower root or what is around it")
    }
    return 0
}
