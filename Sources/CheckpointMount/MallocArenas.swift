import Glibc

/// glibc's malloc arenas for the daemon.
///
/// By default each FUSE worker thread allocates from an arena of its own, so the memory the
/// diff tar's index frees once the view is built stays in the main arena while the node
/// table grows in the others: after a `find` over the mount the daemon held 6 MB more with
/// per-thread arenas than with one. The loop's threads mostly wait on the kernel, so one
/// shared arena costs no measurable time.
enum MallocArenas {
    /// mallopt(3) `M_ARENA_MAX` from `<malloc.h>`.
    private static let arenaMaximum: Int32 = -8

    /// Makes every thread allocate from the main arena: mallopt(M_ARENA_MAX, 1), found with
    /// dlsym(3) because Swift's Glibc module does not import `<malloc.h>`. Call it before
    /// the loop starts its threads. Without the symbol (another C library), nothing changes.
    static func shareOne() {
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        _ = unsafeBitCast(symbol, to: Mallopt.self)(arenaMaximum, 1)
    }
}
