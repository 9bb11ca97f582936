// Dot products of unquantized weight rows (F32, F16, BF16) with float activations. Two SIMD8 accumulators
// reduced in a fixed order: the compiler does not vectorize a scalar float reduction (it may not reassociate),
// and a fixed order keeps results independent of the batch.

/// F32 row · F32 activations over `count` elements (a multiple of 16 is fastest; any count works).
func dotF32(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
    let xr = UnsafeRawPointer(x)
    var acc0 = SIMD8<Float>()
    var acc1 = SIMD8<Float>()
    var i = 0
    while i &+ 16 <= count {
        acc0.addProduct(
            w.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self),
            xr.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self))
        acc1.addProduct(
            w.loadUnaligned(fromByteOffset: (i &+ 8) &* 4, as: SIMD8<Float>.self),
            xr.loadUnaligned(fromByteOffset: (i &+ 8) &* 4, as: SIMD8<Float>.self))
        i &+= 16
    }
    var total = (acc0 + acc1).sum()
    while i < count {
        total += w.loadUnaligned(fromByteOffset: i &* 4, as: Float.self) * x[i]
        i &+= 1
    }
    return total
}

/// F16 row · F32 activations.
func dotF16(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
    let xr = UnsafeRawPointer(x)
    var acc0 = SIMD8<Float>()
    var acc1 = SIMD8<Float>()
    var i = 0
    while i &+ 16 <= count {
        let h0 = w.loadUnaligned(fromByteOffset: i &* 2, as: SIMD8<Float16>.self)
        let h1 = w.loadUnaligned(fromByteOffset: (i &+ 8) &* 2, as: SIMD8<Float16>.self)
        acc0.addProduct(SIMD8<Float>(h0), xr.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self))
        acc1.addProduct(SIMD8<Float>(h1), xr.loadUnaligned(fromByteOffset: (i &+ 8) &* 4, as: SIMD8<Float>.self))
        i &+= 16
    }
    var total = (acc0 + acc1).sum()
    while i < count {
        total += Float(w.loadUnaligned(fromByteOffset: i &* 2, as: Float16.self)) * x[i]
        i &+= 1
    }
    return total
}

/// BF16 row · F32 activations. A bfloat16 is the top half of a float32.
func dotBF16(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
    let xr = UnsafeRawPointer(x)
    var acc0 = SIMD8<Float>()
    var acc1 = SIMD8<Float>()
    var i = 0
    while i &+ 16 <= count {
        let b0 = SIMD8<UInt32>(truncatingIfNeeded: w.loadUnaligned(fromByteOffset: i &* 2, as: SIMD8<UInt16>.self))
        let b1 = SIMD8<UInt32>(
            truncatingIfNeeded: w.loadUnaligned(fromByteOffset: (i &+ 8) &* 2, as: SIMD8<UInt16>.self))
        acc0.addProduct(
            unsafeBitCast(b0 &<< 16, to: SIMD8<Float>.self), xr.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self))
        acc1.addProduct(
            unsafeBitCast(b1 &<< 16, to: SIMD8<Float>.self),
            xr.loadUnaligned(fromByteOffset: (i &+ 8) &* 4, as: SIMD8<Float>.self))
        i &+= 16
    }
    var total = (acc0 + acc1).sum()
    while i < count {
        let bits = UInt32(w.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)) &<< 16
        total += Float(bitPattern: bits) * x[i]
        i &+= 1
    }
    return total
}
