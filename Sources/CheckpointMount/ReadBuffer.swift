import Glibc

/// A read buffer owned by one FUSE worker thread and reused for every read it serves.
///
/// A fresh buffer per request of 128 KiB or more takes glibc's mmap path each time, which
/// halves read throughput; one buffer per thread, grown when a larger request comes, costs
/// nothing after the first read. The buffer is freed when its thread ends.
final class ReadBuffer {
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int

    private init(capacity: Int) {
        storage = Self.allocate(capacity)
        self.capacity = capacity
    }

    deinit { free(storage) }

    /// The calling thread's buffer, at least `count` bytes long.
    static func forCurrentThread(count: Int) -> UnsafeMutableRawBufferPointer {
        let buffer: ReadBuffer
        if let existing = pthread_getspecific(threadKey) {
            buffer = Unmanaged<ReadBuffer>.fromOpaque(existing).takeUnretainedValue()
        } else {
            buffer = ReadBuffer(capacity: max(count, 128 * 1024))
            // pthread_setspecific(3) fails only for an invalid key or out of memory.
            let status = pthread_setspecific(threadKey, Unmanaged.passRetained(buffer).toOpaque())
            precondition(status == 0, "pthread_setspecific failed: \(status)")
        }
        if buffer.capacity < count {
            free(buffer.storage)
            buffer.storage = allocate(count)
            buffer.capacity = count
        }
        return UnsafeMutableRawBufferPointer(start: buffer.storage, count: count)
    }

    /// Page-aligned memory from posix_memalign(3); running out of memory is fatal.
    private static func allocate(_ count: Int) -> UnsafeMutableRawPointer {
        var pointer: UnsafeMutableRawPointer?
        let status = posix_memalign(&pointer, 4096, count)
        guard status == 0, let pointer else { fatalError("posix_memalign(\(count)): \(status)") }
        return pointer
    }

    /// The key of the per-thread pointer; its destructor releases the thread's buffer.
    private static let threadKey: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { pointer in
            guard let pointer else { return }
            Unmanaged<ReadBuffer>.fromOpaque(pointer).release()
        }
        precondition(status == 0, "pthread_key_create failed: \(status)")
        return key
    }()
}
