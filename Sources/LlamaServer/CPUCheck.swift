#if arch(x86_64)
import _Builtin_intrinsics.intel.cpuid
#endif

/// The instruction-set extensions this build's kernels were compiled for and the CPU lacks. On x86-64 the
/// Kernels target is built for Haswell (AVX2, FMA, F16C): on an older CPU the first matrix product would die
/// of SIGILL, so the executable checks first and says so in one line. This file itself is compiled for the
/// x86-64 baseline, so the check runs anywhere.
enum CPUCheck {
    static func missingFeatures() -> [String] {
        #if arch(x86_64)
        var a: UInt32 = 0, b: UInt32 = 0, c: UInt32 = 0, d: UInt32 = 0
        guard __get_cpuid(1, &a, &b, &c, &d) != 0 else { return ["CPUID"] }
        var missing: [String] = []
        if c & (1 << 12) == 0 { missing.append("FMA") }
        if c & (1 << 29) == 0 { missing.append("F16C") }
        if c & (1 << 28) == 0 { missing.append("AVX") }
        if __get_cpuid_count(7, 0, &a, &b, &c, &d) == 0 || b & (1 << 5) == 0 { missing.append("AVX2") }
        return missing
        #else
        return []
        #endif
    }
}
