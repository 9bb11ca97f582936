// A software prefetch (`prefetcht0`), the one instruction the kernels need that neither Swift nor clang's
// importable intrinsics provide: `_mm_prefetch` is a macro, and the `_m_prefetch` builtin is dropped on import.
// This module alone is compiled with `-parse-stdlib` to reach LLVM's prefetch intrinsic. A prefetch never
// faults, so any address is safe to pass.
import Swift

/// Asks the CPU to bring the cache line holding `address` into all cache levels, for reading.
@inlinable @inline(__always)
public func prefetch(_ address: UnsafeRawPointer) {
    Builtin.int_prefetch_RawPointer(address._rawValue, Int32(0)._value, Int32(3)._value, Int32(1)._value)
}
