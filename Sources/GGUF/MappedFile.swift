#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file mapped read-only into memory. Pages are read from disk only when touched, so mapping a 4 GB model
/// costs address space, not resident memory.
package final class MappedFile: @unchecked Sendable {
    // Sendable because the mapping is read-only and immutable for the object's whole life.
    /// The mapped bytes.
    package let bytes: UnsafeRawBufferPointer

    /// Maps the file at `path`.
    ///
    /// - Throws: `GGUFError.cannotOpen` or `.notAFile` when the path cannot be mapped.
    package init(path: String) throws(GGUFError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: MappedFile.errorText()) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .cannotOpen(path: path, reason: MappedFile.errorText()) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .notAFile(path: path) }
        let size = Int(info.st_size)
        guard size > 0 else { throw .tooSmall(byteCount: 0) }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw .cannotOpen(path: path, reason: MappedFile.errorText())
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    /// Drops the resident pages wholly inside `range` (byte offsets) from this process: a later read faults
    /// them back in from the file. For data copied elsewhere, so it is not counted twice in resident memory.
    package func releasePages(_ range: Range<Int>) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (range.lowerBound + page - 1) / page * page
        let end = range.upperBound / page * page
        guard end > start, let base = bytes.baseAddress else { return }
        madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count)
    }

    private static func errorText() -> String {
        String(cString: strerror(errno))
    }
}
