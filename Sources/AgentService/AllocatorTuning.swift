import CGlibcMalloc

/// glibc's allocator, told to keep the memory of the agent's batches for reuse.
///
/// Under load a stream's lines wait in batch buffers of a few hundred KiB that
/// live for milliseconds. With glibc's defaults each
/// burst's freed memory went back to the kernel and the next burst faulted it
/// in again, zeroed: page faults were ~9 % of the agent's CPU in a profile of
/// the single-stream benchmark (docs/performance.md, "Page faults per batch").
/// Buffers up to 1 MiB now come from the heap, and each heap keeps up to 16 MiB
/// of freed memory (the agent's peak RSS in that benchmark stayed at 44–48 MiB).
enum AllocatorTuning {
    /// A refused setting (`mallopt` returns 0) only loses the saving, so it is not an error.
    static func keepBatchMemory() {
        _ = mallopt(M_MMAP_THRESHOLD, 1 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 16 << 20)
    }
}
