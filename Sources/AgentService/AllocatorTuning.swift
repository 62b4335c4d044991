import CGlibcMalloc

/// glibc's allocator, told to keep the memory of the agent's batches for reuse.
///
/// Under load a stream's lines wait in `PendingLines` (up to 8 MiB) in buffers
/// of a few hundred KiB that live for milliseconds. With glibc's defaults each
/// burst's freed memory went back to the kernel and the next burst faulted it
/// in again, zeroed: page faults were ~9 % of the agent's CPU in a profile of
/// the single-stream benchmark (docs/performance.md, "Page faults per batch").
/// Buffers up to 1 MiB now come from the heap, and up to 16 MiB of freed heap
/// is kept, which bounds what this costs in resident memory.
enum AllocatorTuning {
    static func keepBatchMemory() {
        _ = mallopt(M_MMAP_THRESHOLD, 1 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 16 << 20)
    }
}
