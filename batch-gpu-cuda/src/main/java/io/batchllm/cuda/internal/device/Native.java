package io.batchllm.cuda.internal.device;

import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/** Small helpers over JavaCPP: raw addresses as pointers, and error codes as exceptions that name the call. */
final class Native {
    private Native() {
    }

    /** A JavaCPP pointer to {@code address} (device or host), for calls that take {@code void*}. */
    static Pointer at(long address) {
        return new Pointer() {
            {
                this.address = address;
            }
        };
    }

    static void cuda(int err, String call) {
        if (err != cudart.cudaSuccess) {
            throw new IllegalStateException(call + " failed: CUDA error " + err + " ("
                    + cudart.cudaGetErrorString(err).getString() + ")");
        }
    }

    /** Driver API calls (module load, launch) return CUresult, with their own names. */
    static void driver(int err, String call) {
        if (err != cudart.CUDA_SUCCESS) {
            String text = "";
            try (PointerPointer<BytePointer> name = new PointerPointer<>(1)) {
                if (cudart.cuGetErrorString(err, name) == cudart.CUDA_SUCCESS && !name.get(0).isNull()) {
                    text = " (" + name.getString(0) + ")";
                }
            }
            throw new IllegalStateException(call + " failed: CUresult " + err + text);
        }
    }

    static void blas(int status, String call) {
        if (status != cublas.CUBLAS_STATUS_SUCCESS) {
            throw new IllegalStateException(call + " failed: cuBLAS status " + status);
        }
    }

    static void nvrtc(int err, String call) {
        if (err != nvrtc.NVRTC_SUCCESS) {
            throw new IllegalStateException(call + " failed: " + nvrtc.nvrtcGetErrorString(err).getString());
        }
    }
}
