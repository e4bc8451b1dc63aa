import CFuse3
import CheckpointFS
import Glibc

// The C side of every FUSE operation: each trampoline converts its arguments, calls one
// `ViewServer` method, and sends exactly one reply. A thrown `ViewError` becomes
// fuse_reply_err(3) in `answer`, the only place errors turn into replies.
//
// The table is built here, in a function outside main.swift: closures written at the top
// level of main.swift would be main-actor isolated and trap on the loop's worker threads.
//
// Replies on success (any op may also answer fuse_reply_err):
//   lookup                fuse_reply_entry (node 0 and a timeout: a cached absence)
//   forget, forget_multi  fuse_reply_none
//   getattr               fuse_reply_attr
//   readlink              fuse_reply_readlink
//   opendir, open         fuse_reply_open (the snapshot or the view's handle in fh)
//   readdir(plus), read   fuse_reply_buf
//   releasedir, release   fuse_reply_err(0)
//   statfs                fuse_reply_statfs
//   getxattr, listxattr   fuse_reply_xattr for size 0, else fuse_reply_buf
//   every write           fuse_reply_err(EROFS)
// access is not implemented: the mount is always default_permissions, so the kernel
// answers access(2) from the modes the view shows and never asks.

/// The operations table passed to fuse_session_new(3).
func makeLowLevelOperations() -> fuse_lowlevel_ops {
    var ops = fuse_lowlevel_ops()

    ops.`init` = { userdata, connection in
        guard let userdata, let connection else { return }
        Unmanaged<ViewServer>.fromOpaque(userdata).takeUnretainedValue()
            .configure(&connection.pointee)
    }

    ops.lookup = { request, parent, name in
        answer(request) { server throws(ViewError) in
            var entry = try server.lookup(parent: parent, name: bytes(name))
            return fuse_reply_entry(request, &entry)
        }
    }
    ops.forget = { request, node, count in
        server(of: request).forget(node: node, count: count)
        fuse_reply_none(request)
    }
    ops.forget_multi = { request, count, forgets in
        let server = server(of: request)
        for item in UnsafeBufferPointer(start: forgets, count: count) {
            server.forget(node: item.ino, count: item.nlookup)
        }
        fuse_reply_none(request)
    }
    ops.getattr = { request, node, _ in
        answer(request) { server throws(ViewError) in
            var info = try server.attributes(node: node)
            return fuse_reply_attr(request, &info, server.timeout)
        }
    }
    ops.readlink = { request, node in
        answer(request) { server throws(ViewError) in
            let target = try server.readLink(node: node)
            return target.withCPath { fuse_reply_readlink(request, $0) }
        }
    }

    ops.opendir = { request, node, info in
        answer(request) { server throws(ViewError) in
            let handle = try server.openDirectory(node: node)
            let retained = Unmanaged.passRetained(handle)
            info!.pointee.fh = UInt64(UInt(bitPattern: retained.toOpaque()))
            // The listing never changes: the kernel may cache it across opens.
            info!.pointee.cache_readdir = 1
            info!.pointee.keep_cache = 1
            let status = fuse_reply_open(request, info)
            // The caller was interrupted and will never release this handle.
            if status == -ENOENT { retained.release() }
            return status
        }
    }
    ops.readdir = { request, _, size, offset, info in
        readDirectory(request, size: size, offset: offset, info: info, plus: false)
    }
    ops.readdirplus = { request, _, size, offset, info in
        readDirectory(request, size: size, offset: offset, info: info, plus: true)
    }
    ops.releasedir = { request, _, info in
        directoryHandle(info).release()
        fuse_reply_err(request, 0)
    }

    ops.open = { request, node, info in
        answer(request) { server throws(ViewError) in
            switch try server.openFile(node: node, flags: info!.pointee.flags) {
            case .openWithoutAsking:
                return fuse_reply_err(request, ENOSYS)
            case .reply:
                info!.pointee.fh = 0
                info!.pointee.keep_cache = 1
                // Nothing is ever written, so closing needs no FLUSH round trip.
                info!.pointee.noflush = 1
                return fuse_reply_open(request, info)
            }
        }
    }
    ops.read = { request, node, size, offset, _ in
        answer(request) { server throws(ViewError) in
            let data = try server.read(node: node, offset: Int64(offset), count: size)
            return fuse_reply_buf(request, data.baseAddress?.assumingMemoryBound(to: CChar.self),
                                  data.count)
        }
    }
    ops.release = { request, _, _ in
        fuse_reply_err(request, 0)
    }

    ops.statfs = { request, _ in
        answer(request) { server throws(ViewError) in
            var statistics = try server.statistics()
            return fuse_reply_statfs(request, &statistics)
        }
    }
    ops.getxattr = { request, node, name, size in
        answer(request) { server throws(ViewError) in
            sendSized(request, try server.extendedAttribute(node: node, name: bytes(name),
                                                            size: size))
        }
    }
    ops.listxattr = { request, node, size in
        answer(request) { server throws(ViewError) in
            sendSized(request, try server.extendedAttributeNames(node: node, size: size))
        }
    }

    refuseWrites(&ops)
    return ops
}

/// Every request that would change the tree answers EROFS. The mount is read-only, so the
/// kernel refuses most of them itself; these cover the rest and a remount.
private func refuseWrites(_ ops: inout fuse_lowlevel_ops) {
    ops.setattr = { request, _, _, _, _ in refuse(request) }
    ops.mknod = { request, _, _, _, _ in refuse(request) }
    ops.mkdir = { request, _, _, _ in refuse(request) }
    ops.unlink = { request, _, _ in refuse(request) }
    ops.rmdir = { request, _, _ in refuse(request) }
    ops.symlink = { request, _, _, _ in refuse(request) }
    ops.rename = { request, _, _, _, _, _ in refuse(request) }
    ops.link = { request, _, _, _ in refuse(request) }
    ops.write = { request, _, _, _, _, _ in refuse(request) }
    ops.create = { request, _, _, _, _ in refuse(request) }
    ops.setxattr = { request, _, _, _, _, _ in refuse(request) }
    ops.removexattr = { request, _, _ in refuse(request) }
    ops.fallocate = { request, _, _, _, _, _ in refuse(request) }
    ops.copy_file_range = { request, _, _, _, _, _, _, _, _ in refuse(request) }
}

private func refuse(_ request: fuse_req_t?) {
    fuse_reply_err(request, EROFS)
}

/// Calls `operation`, which sends the reply on success; a thrown error is replied here.
private func answer(
    _ request: fuse_req_t?,
    _ operation: (ViewServer) throws(ViewError) -> Int32
) {
    do {
        // The status of a reply only says whether the caller was still waiting: nothing to do.
        _ = try operation(server(of: request))
    } catch {
        fuse_reply_err(request, error.errno)
    }
}

private func readDirectory(
    _ request: fuse_req_t?,
    size: Int,
    offset: off_t,
    info: UnsafeMutablePointer<fuse_file_info>?,
    plus: Bool
) {
    let handle = directoryHandle(info).takeUnretainedValue()
    let buffer = ReadBuffer.forCurrentThread(count: size)
    let server = server(of: request)
    let (used, referenced) = server.fillDirectory(
        handle, from: Int(offset), into: buffer, plus: plus, request: request)
    let status = fuse_reply_buf(
        request, buffer.baseAddress?.assumingMemoryBound(to: CChar.self), used)
    // An interrupted caller never sees the entries: the kernel took no references on them.
    if status != 0 {
        for node in referenced { server.forget(node: node, count: 1) }
    }
}

private func sendSized(_ request: fuse_req_t?, _ answer: ViewServer.SizedAnswer) -> Int32 {
    switch answer {
    case .length(let length):
        return fuse_reply_xattr(request, length)
    case .bytes(let value):
        return value.withUnsafeBytes {
            fuse_reply_buf(request, $0.baseAddress?.assumingMemoryBound(to: CChar.self),
                           $0.count)
        }
    }
}

/// The server passed as userdata to fuse_session_new(3).
private func server(of request: fuse_req_t?) -> ViewServer {
    Unmanaged<ViewServer>.fromOpaque(fuse_req_userdata(request)).takeUnretainedValue()
}

/// The snapshot `opendir` stored in the file handle.
private func directoryHandle(
    _ info: UnsafeMutablePointer<fuse_file_info>?
) -> Unmanaged<DirectoryHandle> {
    let raw = UnsafeRawPointer(bitPattern: UInt(info!.pointee.fh))!
    return Unmanaged<DirectoryHandle>.fromOpaque(raw)
}

private func bytes(_ name: UnsafePointer<CChar>?) -> PathBytes {
    guard let name else { return [] }
    return Array(UnsafeRawBufferPointer(start: name, count: strlen(name)))
}
