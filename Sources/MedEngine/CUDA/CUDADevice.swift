import CCUDA
import Foundation

/// One GPU as the backend uses it: its primary context, one stream (every operation is queued on it in order, so
/// a buffer recycled by the pool is never reused before the work reading it has run), the cuBLAS handle, the
/// loaded kernels and the memory pool. Buffers keep it alive: the context outlives every tensor with device values.
/// Every method runs under `TensorStorage.deviceLock`.
final class CUDADevice: @unchecked Sendable {
    let lib: CUDALibraries
    let device: CUdevice
    let context: CUcontext
    let stream: CUstream
    let blas: cublasHandle_t
    let module: CUmodule
    let functions: [CUDAKernel: CUfunction]
    let name: String
    /// Compute capability as 10·major + minor (90 for Hopper).
    let architecture: Int
    let multiprocessors: Int
    let totalMemory: Int
    let driverVersion: Int
    let kernelImage: CUDAKernelCompiler.Image
    let computeType: Int32

    // The memory pool: freed blocks are kept by rounded size and reused; the cache is released when an
    // allocation fails, before out-of-memory is reported.
    private var cached: [Int: [CUdeviceptr]] = [:]
    private(set) var bytesInUse = 0
    private(set) var bytesCached = 0
    private(set) var peakBytesInUse = 0

    private init(lib: CUDALibraries, device: CUdevice, context: CUcontext, stream: CUstream, blas: cublasHandle_t,
                 module: CUmodule, functions: [CUDAKernel: CUfunction], name: String, architecture: Int,
                 multiprocessors: Int, totalMemory: Int, driverVersion: Int, kernelImage: CUDAKernelCompiler.Image,
                 math: CUDAMath) {
        self.lib = lib; self.device = device; self.context = context; self.stream = stream; self.blas = blas
        self.module = module; self.functions = functions; self.name = name; self.architecture = architecture
        self.multiprocessors = multiprocessors; self.totalMemory = totalMemory; self.driverVersion = driverVersion
        self.kernelImage = kernelImage
        switch math {
        case .fp32: computeType = Int32(CCUDA_CUBLAS_COMPUTE_32F)
        case .tf32: computeType = Int32(CCUDA_CUBLAS_COMPUTE_32F_FAST_TF32)
        case .bf16: computeType = Int32(CCUDA_CUBLAS_COMPUTE_32F_FAST_16BF)
        }
    }

    /// Opens device `config.deviceOrdinal`: context, stream, cuBLAS, and the kernels (compiled or from the cache).
    static func open(_ lib: CUDALibraries, _ config: CUDAConfiguration) throws(CUDAError) -> CUDADevice {
        let d = lib.driver
        try d.check(d.cuInit!(0), "cuInit")
        var count: Int32 = 0
        try d.check(d.cuDeviceGetCount!(&count), "cuDeviceGetCount")
        guard count > 0 else { throw .noDevice("the driver reports none") }
        guard config.deviceOrdinal >= 0, config.deviceOrdinal < Int(count) else {
            throw .noDevice("device \(config.deviceOrdinal) asked for, \(count) present")
        }
        var device: CUdevice = 0
        try d.check(d.cuDeviceGet!(&device, Int32(config.deviceOrdinal)), "cuDeviceGet")
        var nameBuffer = [CChar](repeating: 0, count: 256)
        try d.check(d.cuDeviceGetName!(&nameBuffer, Int32(nameBuffer.count), device), "cuDeviceGetName")
        let attribute = { (which: Int) throws(CUDAError) -> Int in
            var value: Int32 = 0
            try d.check(d.cuDeviceGetAttribute!(&value, Int32(which), device), "cuDeviceGetAttribute")
            return Int(value)
        }
        let architecture = try attribute(Int(CCUDA_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)) * 10
            + attribute(Int(CCUDA_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR))
        let multiprocessors = try attribute(Int(CCUDA_ATTRIBUTE_MULTIPROCESSOR_COUNT))
        var total = 0
        try d.check(d.cuDeviceTotalMem!(&total, device), "cuDeviceTotalMem")
        var driverVersion: Int32 = 0
        try d.check(d.cuDriverGetVersion!(&driverVersion), "cuDriverGetVersion")

        var context: CUcontext?
        try d.check(d.cuDevicePrimaryCtxRetain!(&context, device), "cuDevicePrimaryCtxRetain")
        var stream: CUstream?, blas: cublasHandle_t?, module: CUmodule?
        // Undo what was set up when a later step fails.
        var done = false
        defer {
            if !done {
                if let module { _ = d.cuModuleUnload!(module) }
                if let blas { _ = lib.cublas.cublasDestroy!(blas) }
                if let stream { _ = d.cuStreamDestroy!(stream) }
                _ = d.cuDevicePrimaryCtxRelease!(device)
            }
        }
        try d.check(d.cuCtxSetCurrent!(context), "cuCtxSetCurrent")
        try d.check(d.cuStreamCreate!(&stream, UInt32(CCUDA_STREAM_NON_BLOCKING)), "cuStreamCreate")
        let created = lib.cublas.cublasCreate!(&blas)
        guard created == 0, blas != nil else {
            if created == Int32(CCUDA_CUBLAS_ALLOC_FAILED) { throw .outOfMemory(requestedBytes: 0, freeBytes: 0, totalBytes: total) }
            throw .cublas(call: "cublasCreate", status: created)
        }
        let status = lib.cublas.cublasSetStream!(blas, stream)
        guard status == 0 else { throw .cublas(call: "cublasSetStream", status: status) }

        let compiler = CUDAKernelCompiler(nvrtc: lib.nvrtc, cacheDirectory: config.resolvedCacheDirectory)
        var image = try compiler.image(source: CUDAKernel.source, architecture: architecture)
        var loaded = image.bytes.withUnsafeBytes { d.cuModuleLoadData!(&module, $0.baseAddress) }
        if loaded != CUresult(CCUDA_SUCCESS), !image.compiled {
            // A cached image the driver refuses: compile afresh once.
            compiler.forget(image)
            image = try compiler.image(source: CUDAKernel.source, architecture: architecture)
            loaded = image.bytes.withUnsafeBytes { d.cuModuleLoadData!(&module, $0.baseAddress) }
        }
        try d.check(loaded, "cuModuleLoadData (\(image.target))")
        var functions: [CUDAKernel: CUfunction] = [:]
        for kernel in CUDAKernel.allCases {
            var function: CUfunction?
            try d.check(d.cuModuleGetFunction!(&function, module, kernel.rawValue), "cuModuleGetFunction(\(kernel.rawValue))")
            functions[kernel] = function
        }
        done = true
        return CUDADevice(lib: lib, device: device, context: context!, stream: stream!, blas: blas!, module: module!,
                          functions: functions, name: String(cString: nameBuffer), architecture: architecture,
                          multiprocessors: max(1, multiprocessors), totalMemory: total, driverVersion: Int(driverVersion),
                          kernelImage: image, math: config.math)
    }

    deinit {
        let d = lib.driver
        _ = d.cuCtxSetCurrent!(context)
        _ = d.cuStreamSynchronize!(stream)
        for (_, list) in cached { for address in list { _ = d.cuMemFree!(address) } }
        _ = d.cuModuleUnload!(module)
        _ = lib.cublas.cublasDestroy!(blas)
        _ = d.cuStreamDestroy!(stream)
        _ = d.cuDevicePrimaryCtxRelease!(device)
    }

    /// The driver's context is per thread; calls may come from any thread.
    func makeCurrent() throws(CUDAError) {
        try lib.driver.check(lib.driver.cuCtxSetCurrent!(context), "cuCtxSetCurrent")
    }

    // MARK: memory

    /// Sizes are rounded so that similar requests share blocks: to 512 B up to 1 MiB, 64 KiB up to 64 MiB, then
    /// 2 MiB (at most ~6 % unused).
    static func blockSize(_ bytes: Int) -> Int {
        let b = max(bytes, 1)
        let unit = b <= 1 << 20 ? 512 : (b <= 64 << 20 ? 64 << 10 : 2 << 20)
        return (b + unit - 1) / unit * unit
    }

    /// A buffer of at least `bytes`, from the pool or the driver.
    func allocate(bytes: Int) throws(CUDAError) -> CUDABuffer {
        let size = Self.blockSize(bytes)
        let reuse = cached[size]?.isEmpty == false ? size
            : cached.keys.filter { $0 > size && $0 <= 2 * size && cached[$0]?.isEmpty == false }.min()
        if let reuse, let address = cached[reuse]?.popLast() {
            bytesCached -= reuse
            return track(CUDABuffer(device: self, address: address, blockBytes: reuse))
        }
        var address: CUdeviceptr = 0
        var result = lib.driver.cuMemAlloc!(&address, size)
        if result == CUresult(CCUDA_ERROR_OUT_OF_MEMORY), bytesCached > 0 {
            releaseCache()
            result = lib.driver.cuMemAlloc!(&address, size)
        }
        if result == CUresult(CCUDA_ERROR_OUT_OF_MEMORY) {
            let (free, total) = memoryInfo()
            throw .outOfMemory(requestedBytes: size, freeBytes: free, totalBytes: total)
        }
        try lib.driver.check(result, "cuMemAlloc")
        return track(CUDABuffer(device: self, address: address, blockBytes: size))
    }

    private func track(_ buffer: CUDABuffer) -> CUDABuffer {
        bytesInUse += buffer.blockBytes
        peakBytesInUse = max(peakBytesInUse, bytesInUse)
        return buffer
    }

    /// Called when a buffer is freed, from any thread.
    func recycle(_ address: CUdeviceptr, blockBytes: Int) {
        TensorStorage.deviceLock.lock(); defer { TensorStorage.deviceLock.unlock() }
        bytesInUse -= blockBytes
        bytesCached += blockBytes
        cached[blockBytes, default: []].append(address)
    }

    /// Returns the pool's free blocks to the driver (after the queued work that may still read them).
    func releaseCache() {
        _ = lib.driver.cuStreamSynchronize!(stream)
        for (_, list) in cached { for address in list { _ = lib.driver.cuMemFree!(address) } }
        cached.removeAll()
        bytesCached = 0
    }

    func memoryInfo() -> (free: Int, total: Int) {
        var free = 0, total = 0
        _ = lib.driver.cuMemGetInfo!(&free, &total)
        return (free, total)
    }

    func resetPeak() { peakBytesInUse = bytesInUse }

    // MARK: transfers

    func upload(_ host: UnsafeRawPointer, to address: CUdeviceptr, bytes: Int) throws(CUDAError) {
        guard bytes > 0 else { return }
        try lib.driver.check(lib.driver.cuMemcpyHtoDAsync!(address, host, bytes, stream), "cuMemcpyHtoDAsync")
    }

    func download(from address: CUdeviceptr, to host: UnsafeMutableRawPointer, bytes: Int) throws(CUDAError) {
        TensorStorage.deviceLock.lock(); defer { TensorStorage.deviceLock.unlock() }
        try makeCurrent()
        if bytes > 0 {
            try lib.driver.check(lib.driver.cuMemcpyDtoHAsync!(host, address, bytes, stream), "cuMemcpyDtoHAsync")
        }
        try synchronize()
    }

    func copy(from source: CUdeviceptr, to destination: CUdeviceptr, bytes: Int) throws(CUDAError) {
        guard bytes > 0 else { return }
        try lib.driver.check(lib.driver.cuMemcpyDtoDAsync!(destination, source, bytes, stream), "cuMemcpyDtoDAsync")
    }

    /// Sets `count` 32-bit words to zero (floats, ints; doubles as two words each).
    func zero(_ address: CUdeviceptr, words: Int) throws(CUDAError) {
        guard words > 0 else { return }
        try lib.driver.check(lib.driver.cuMemsetD32Async!(address, 0, words, stream), "cuMemsetD32Async")
    }

    func synchronize() throws(CUDAError) {
        try lib.driver.check(lib.driver.cuStreamSynchronize!(stream), "cuStreamSynchronize")
    }

    // MARK: kernels

    /// Grid for a grid-stride loop over `count` elements: enough blocks to fill the device once.
    func blocks(for count: Int, threads: Int = 256) -> Int {
        max(1, min((count + threads - 1) / threads, multiprocessors * 8))
    }

    func launch(_ kernel: CUDAKernel, grid: (x: Int, y: Int, z: Int), threads: Int = 256, _ arguments: [CUDAArgument]) throws(CUDAError) {
        let sizes = arguments.map(\.byteCount)
        let slots = sizes.map { ($0 + 7) & ~7 }
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(8, slots.reduce(0, +)), alignment: 16)
        defer { storage.deallocate() }
        var params: [UnsafeMutableRawPointer?] = []
        var offset = 0
        for (argument, slot) in zip(arguments, slots) {
            let at = storage + offset
            at.initializeMemory(as: UInt8.self, repeating: 0, count: slot)
            argument.write(to: at)
            params.append(at)
            offset += slot
        }
        let result = params.withUnsafeMutableBufferPointer { list in
            lib.driver.cuLaunchKernel!(functions[kernel]!, UInt32(grid.x), UInt32(grid.y), UInt32(grid.z), UInt32(threads), 1, 1, 0,
                                       stream, list.baseAddress, nil)
        }
        try lib.driver.check(result, "cuLaunchKernel(\(kernel.rawValue))")
    }

    /// A grid-stride kernel over `count` elements; nothing is launched for none.
    func elementwise(_ kernel: CUDAKernel, count: Int, _ arguments: [CUDAArgument]) throws(CUDAError) {
        guard count > 0 else { return }
        try launch(kernel, grid: (blocks(for: count), 1, 1), arguments)
    }

    /// A kernel over `rows` (grid y) × `depth` (grid z) rows of `columns` contiguous elements (grid x); blocks as
    /// wide as a row needs, up to 256 threads. Each dimension grid-strides past the hardware's grid limits.
    func planar(_ kernel: CUDAKernel, columns: Int, rows: Int, depth: Int = 1, _ arguments: [CUDAArgument]) throws(CUDAError) {
        guard columns > 0, rows > 0, depth > 0 else { return }
        let threads = min(256, (columns + 31) / 32 * 32)
        try launch(kernel, grid: (min((columns + threads - 1) / threads, 65535), min(rows, 65535), min(depth, 65535)),
                   threads: threads, arguments)
    }

    // MARK: matrix products

    /// Row-major C[m×n] = op(A)·op(B) + beta·C (`batch` of them, `stride*` floats apart), computed by cuBLAS in
    /// column-major terms as Cᵀ = op(B)ᵀ·op(A)ᵀ.
    func gemm(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ a: CUdeviceptr, _ lda: Int, _ b: CUdeviceptr,
              _ ldb: Int, beta: Float, _ c: CUdeviceptr, _ ldc: Int, batch: Int = 1, strideA: Int = 0,
              strideB: Int = 0, strideC: Int = 0) throws(CUDAError) {
        guard m > 0, n > 0, batch > 0 else { return }
        FLOPCounter.add(2 * Double(m) * Double(n) * Double(k) * Double(batch))
        var alpha: Float = 1, beta = beta
        let opA = Int32(ta ? CCUDA_CUBLAS_OP_T : CCUDA_CUBLAS_OP_N), opB = Int32(tb ? CCUDA_CUBLAS_OP_T : CCUDA_CUBLAS_OP_N)
        let type = Int32(CCUDA_R_32F), algorithm = Int32(CCUDA_CUBLAS_GEMM_DEFAULT)
        let pa = UnsafeRawPointer(bitPattern: UInt(a)), pb = UnsafeRawPointer(bitPattern: UInt(b))
        let pc = UnsafeMutableRawPointer(bitPattern: UInt(c))
        let status: cublasStatus_t
        if batch == 1 {
            status = lib.cublas.cublasGemmEx!(blas, opB, opA, Int32(n), Int32(m), Int32(k), &alpha, pb, type, Int32(ldb),
                                              pa, type, Int32(lda), &beta, pc, type, Int32(ldc), computeType, algorithm)
        } else {
            status = lib.cublas.cublasGemmStridedBatchedEx!(blas, opB, opA, Int32(n), Int32(m), Int32(k), &alpha,
                                                            pb, type, Int32(ldb), Int64(strideB), pa, type, Int32(lda),
                                                            Int64(strideA), &beta, pc, type, Int32(ldc), Int64(strideC),
                                                            Int32(batch), computeType, algorithm)
        }
        guard status == 0 else {
            if status == cublasStatus_t(CCUDA_CUBLAS_ALLOC_FAILED) {
                let (free, total) = memoryInfo()
                throw .outOfMemory(requestedBytes: 0, freeBytes: free, totalBytes: total)
            }
            throw .cublas(call: batch == 1 ? "cublasGemmEx" : "cublasGemmStridedBatchedEx", status: status)
        }
    }
}

/// A block of device memory; freeing the object returns it to the pool. As a tensor storage's `DeviceMirror` it
/// holds the tensor's device values.
final class CUDABuffer: DeviceMirror, @unchecked Sendable {
    let device: CUDADevice
    let address: CUdeviceptr
    let blockBytes: Int

    init(device: CUDADevice, address: CUdeviceptr, blockBytes: Int) {
        self.device = device
        self.address = address
        self.blockBytes = blockBytes
    }

    deinit { device.recycle(address, blockBytes: blockBytes) }

    func copyToHost(_ host: UnsafeMutablePointer<Float>, count: Int) {
        do { try device.download(from: address, to: host, bytes: count * MemoryLayout<Float>.stride) } catch {
            // Only a broken context gets here (out-of-memory never does): the values are lost.
            fatalError("CUDA: cannot copy a tensor back from the device: \(error)")
        }
    }

    func int32s(count: Int) throws(CUDAError) -> [Int32] {
        var values = [Int32](repeating: 0, count: count)
        let failure = values.withUnsafeMutableBytes { raw -> CUDAError? in
            do throws(CUDAError) { try device.download(from: address, to: raw.baseAddress!, bytes: raw.count) } catch { return error }
            return nil
        }
        if let failure { throw failure }
        return values
    }
}

/// A kernel parameter, written as the kernel declares it (int, float, double, pointer, MLWindow).
enum CUDAArgument {
    case pointer(CUdeviceptr?)
    case int(Int)
    case float(Float)
    case double(Double)
    case window(CUDAWindow)

    var byteCount: Int {
        switch self {
        case .pointer, .double: return 8
        case .int, .float: return 4
        case .window: return CUDAWindow.fieldCount * 4
        }
    }

    func write(to at: UnsafeMutableRawPointer) {
        switch self {
        case .pointer(let p): at.storeBytes(of: p ?? 0, as: UInt64.self)
        case .int(let v):
            precondition(v >= Int(Int32.min) && v <= Int(Int32.max), "kernel argument \(v) exceeds 32 bits")
            at.storeBytes(of: Int32(v), as: Int32.self)
        case .float(let v): at.storeBytes(of: v, as: Float.self)
        case .double(let v): at.storeBytes(of: v, as: Double.self)
        case .window(let w):
            for (i, v) in w.fields.enumerated() { at.storeBytes(of: Int32(v), toByteOffset: i * 4, as: Int32.self) }
        }
    }
}

/// The kernels' `MLWindow`: chunk and group of a convolution, and the (D, H, W) window geometry.
struct CUDAWindow {
    static let fieldCount = 23
    var n0 = 0, nb = 0, channels = 0, groupChannels = 0, group = 0
    var input: [Int], output: [Int]
    let geometry: WindowGeometry

    /// `geometry` in any rank, input and output spatial sizes as (D, H, W).
    init(geometry: WindowGeometry, input: [Int], output: [Int]) {
        self.geometry = geometry.as3D
        self.input = input
        self.output = output
    }

    var fields: [Int] {
        let g = geometry
        return [n0, nb, channels, groupChannels, group] + input + output + g.kernel + g.stride + g.padding + g.dilation
    }
}
