import CHiredis

/// Where hiredis builds the replies of one connection: `redisReply` objects and
/// their strings, bump-allocated from chunks that the next reply reuses.
///
/// hiredis's own reply functions make a `calloc`'d object and a `malloc`'d string
/// for every element, eight allocations (and frees) for one pub/sub message: a
/// fifth of a busy gateway's CPU. hiredis lets a reader build replies with
/// functions of its own (`redisReader.fn`, called with `redisReader.privdata`);
/// these put them here.
///
/// Lifetime: hiredis creates a reply's objects while it parses it, possibly over
/// several reads, and starts on the next reply only when it is asked for the next
/// one. So once a reply has been returned and converted, nothing in the arena is
/// in use and `reset()` may reuse all of it. `freeObject` does nothing; the arena
/// frees its chunks when the connection goes.
///
/// Like `HiredisContext`, confined to the connection's I/O thread.
final class HiredisReplyArena {
    private static let chunkSize = 64 << 10

    /// The first chunk, kept across replies.
    private let first: UnsafeMutableRawBufferPointer
    /// Chunks a large reply needed besides the first, freed at `reset()`.
    private var extra: [UnsafeMutableRawBufferPointer] = []
    private var current: UnsafeMutableRawBufferPointer
    private var used = 0

    init() {
        first = .allocate(byteCount: Self.chunkSize, alignment: 16)
        current = first
    }

    deinit {
        releaseExtraChunks()
        first.deallocate()
    }

    /// Makes everything allocated so far reusable: call once a reply is converted and no longer read.
    func reset() {
        releaseExtraChunks()
        current = first
        used = 0
    }

    /// Installs the arena as the builder of `reader`'s replies. The arena must outlive the reader.
    func install(in reader: UnsafeMutablePointer<redisReader>) {
        reader.pointee.fn = UnsafeMutablePointer(mutating: hiredisArenaFunctions)
        reader.pointee.privdata = Unmanaged.passUnretained(self).toOpaque()
    }

    private func releaseExtraChunks() {
        for chunk in extra { chunk.deallocate() }
        extra.removeAll()
    }

    private func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer {
        let start = (used + alignment - 1) & ~(alignment - 1)
        if start + byteCount <= current.count {
            used = start + byteCount
            return current.baseAddress! + start
        }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: max(Self.chunkSize, byteCount), alignment: 16)
        extra.append(chunk)
        current = chunk
        used = byteCount
        return chunk.baseAddress!
    }

    /// A zeroed reply of `type`, linked into its parent array as hiredis's own functions do.
    fileprivate func makeReply(for task: UnsafePointer<redisReadTask>, type: Int32) -> UnsafeMutablePointer<redisReply> {
        let reply = allocate(byteCount: MemoryLayout<redisReply>.stride, alignment: MemoryLayout<redisReply>.alignment)
            .bindMemory(to: redisReply.self, capacity: 1)
        reply.initialize(to: redisReply())
        reply.pointee.type = type
        if let parent = task.pointee.parent {
            parent.pointee.obj.assumingMemoryBound(to: redisReply.self).pointee.element[Int(task.pointee.idx)] = reply
        }
        return reply
    }

    /// A copy of `count` bytes at `bytes`, NUL-terminated like hiredis's strings.
    fileprivate func copy(_ bytes: UnsafePointer<CChar>?, count: Int) -> UnsafeMutablePointer<CChar> {
        let copy = allocate(byteCount: count + 1, alignment: 1).bindMemory(to: CChar.self, capacity: count + 1)
        if let bytes, count > 0 { copy.initialize(from: bytes, count: count) }
        copy[count] = 0
        return copy
    }

    /// Room for an array's `count` element pointers, all nil.
    fileprivate func elements(_ count: Int) -> UnsafeMutablePointer<UnsafeMutablePointer<redisReply>?> {
        let elements = allocate(byteCount: count * MemoryLayout<UnsafeMutablePointer<redisReply>?>.stride, alignment: 8)
            .bindMemory(to: UnsafeMutablePointer<redisReply>?.self, capacity: count)
        elements.initialize(repeating: nil, count: count)
        return elements
    }

    /// Runs `body` with the arena of `task`'s reader. Without retaining it: the
    /// connection that owns the arena is what called into hiredis.
    fileprivate static func with<Result>(
        _ task: UnsafePointer<redisReadTask>?, _ body: (HiredisReplyArena, UnsafePointer<redisReadTask>) -> Result
    ) -> Result {
        Unmanaged<HiredisReplyArena>.fromOpaque(task!.pointee.privdata)._withUnsafeGuaranteedRef { body($0, task!) }
    }
}

/// The functions hiredis calls to build replies in a `HiredisReplyArena`.
///
/// `nonisolated(unsafe)`: a C struct of function pointers, initialised once (a
/// global's initialiser runs exactly once, thread-safely) and never written
/// after; hiredis only reads it, from any connection's thread.
private nonisolated(unsafe) let hiredisArenaFunctions: UnsafePointer<redisReplyObjectFunctions> = {
    let functions = UnsafeMutablePointer<redisReplyObjectFunctions>.allocate(capacity: 1)
    functions.initialize(
        to: redisReplyObjectFunctions(
            createString: { task, bytes, count in
                HiredisReplyArena.with(task) { arena, task in
                    let reply = arena.makeReply(for: task, type: task.pointee.type)
                    reply.pointee.str = arena.copy(bytes, count: count)
                    reply.pointee.len = count
                    return UnsafeMutableRawPointer(reply)
                }
            },
            createArray: { task, count in
                HiredisReplyArena.with(task) { arena, task in
                    let reply = arena.makeReply(for: task, type: REDIS_REPLY_ARRAY)
                    if count > 0 { reply.pointee.element = arena.elements(Int(count)) }
                    reply.pointee.elements = Int(max(count, 0))
                    return UnsafeMutableRawPointer(reply)
                }
            },
            createInteger: { task, value in
                HiredisReplyArena.with(task) { arena, task in
                    let reply = arena.makeReply(for: task, type: REDIS_REPLY_INTEGER)
                    reply.pointee.integer = value
                    return UnsafeMutableRawPointer(reply)
                }
            },
            createNil: { task in
                HiredisReplyArena.with(task) { arena, task in
                    UnsafeMutableRawPointer(arena.makeReply(for: task, type: REDIS_REPLY_NIL))
                }
            },
            freeObject: { _ in }
        )
    )
    return UnsafePointer(functions)
}()
