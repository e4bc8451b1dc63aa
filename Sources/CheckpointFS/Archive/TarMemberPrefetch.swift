import Glibc

/// Reads a `TarMemberStream` on a thread of its own, a few batches of members ahead of the
/// one consumer, so reading and checking headers overlaps with applying members.
///
/// The consumer sees exactly what the stream gives, in order, and the stream's error at the
/// place it occurred. Progress is reported from the consumer's thread, as members are taken.
/// The reader thread has ended once `next` has returned nil or thrown, and when the
/// prefetch is released.
final class TarMemberPrefetch {
    /// One handover from the reader: members, then possibly the end or the stream's error.
    private struct Batch {
        var members: [TarMember] = []
        var end: Result<Void, any Error>?
    }

    /// What both threads touch, under the lock.
    private final class Shared: @unchecked Sendable {
        let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        var ready: [Batch] = []
        var stopped = false
        let stream: TarMemberStream

        init(stream: TarMemberStream) {
            self.stream = stream
            pthread_mutex_init(lock, nil)
            pthread_cond_init(changed, nil)
        }

        deinit {
            pthread_cond_destroy(changed)
            pthread_mutex_destroy(lock)
            lock.deallocate()
            changed.deallocate()
        }

        func withLock<T>(_ body: () -> T) -> T {
            pthread_mutex_lock(lock)
            defer { pthread_mutex_unlock(lock) }
            return body()
        }

        /// Waits on `changed` until `condition` holds; the lock must be held.
        func wait(until condition: () -> Bool) {
            while !condition() { pthread_cond_wait(changed, lock) }
        }
    }

    /// Members per handover: large enough that the lock is rare, small enough that the
    /// consumer starts at once.
    static let batchSize = 256
    /// Batches the reader may be ahead by.
    static let depth = 8

    let displayName: String
    private let shared: Shared
    private var thread = pthread_t()
    private var running = false
    private var current: [TarMember] = []
    private var position = 0
    private var end: Result<Void, any Error>?
    private let size: Int64
    private let onProgress: ((Int64, Int64) -> Void)?

    /// Starts reading `stream`, which must not be read by anyone else from now on.
    /// - Parameters:
    ///   - size: the tar's size, for progress.
    ///   - onProgress: called on the consumer's thread with the offset of the member taken.
    init(stream: TarMemberStream, size: Int64, onProgress: ((Int64, Int64) -> Void)?) {
        displayName = stream.displayName
        shared = Shared(stream: stream)
        self.size = size
        self.onProgress = onProgress
        let context = Unmanaged.passRetained(shared).toOpaque()
        running = pthread_create(&thread, nil, { context in
            let shared = Unmanaged<Shared>.fromOpaque(context!).takeRetainedValue()
            TarMemberPrefetch.read(shared)
            return nil
        }, context) == 0
        if !running {
            // No thread to be had: the consumer reads the stream itself, one member at a time.
            Unmanaged<Shared>.fromOpaque(context).release()
        }
    }

    deinit {
        shared.withLock {
            shared.stopped = true
            pthread_cond_broadcast(shared.changed)
        }
        join()
    }

    /// The next member, or nil after the last.
    /// - Throws: the stream's error, at the member where reading stopped.
    func next() throws -> TarMember? {
        if !running && end == nil && position == current.count {
            do {
                current = try shared.stream.next().map { [$0] } ?? []
            } catch {
                end = .failure(error)
            }
            position = 0
            if current.isEmpty && end == nil { end = .success(()) }
        }
        while position == current.count {
            if let end {
                join()
                do {
                    try end.get()
                } catch {
                    failed = true
                    throw error
                }
                return nil
            }
            let batch = take()
            current = batch.members
            position = 0
            end = batch.end
        }
        let member = current[position]
        position += 1
        onProgress?(member.dataOffset, size)
        if position == current.count && end != nil { onProgress?(size, size) }
        return member
    }

    /// Reads the rest of the tar, for the fault in a later header that a consumer stopped
    /// early would otherwise not see.
    /// - Throws: the first fault of the tar from here on.
    func drain() throws {
        while try next() != nil {}
    }

    /// Whether `next` has thrown the stream's own fault (rather than the consumer failing
    /// on a member).
    private(set) var failed = false

    /// Waits for the reader's next batch.
    private func take() -> Batch {
        shared.withLock {
            shared.wait { !shared.ready.isEmpty }
            pthread_cond_broadcast(shared.changed)
            return shared.ready.removeFirst()
        }
    }

    private func join() {
        guard running else { return }
        pthread_join(thread, nil)
        running = false
    }

    /// The reader: batches until the end of the stream, its error, or the consumer stops.
    private static func read(_ shared: Shared) {
        while true {
            var batch = Batch()
            batch.members.reserveCapacity(batchSize)
            do {
                while batch.members.count < batchSize {
                    guard let member = try shared.stream.next() else {
                        batch.end = .success(())
                        break
                    }
                    batch.members.append(member)
                }
            } catch {
                batch.end = .failure(error)
            }
            let finished = batch.end != nil
            let stopped = shared.withLock {
                shared.wait { shared.ready.count < depth || shared.stopped }
                if !shared.stopped {
                    shared.ready.append(batch)
                    pthread_cond_broadcast(shared.changed)
                }
                return shared.stopped
            }
            if finished || stopped { return }
        }
    }
}
