/** Page entry of the browser GEMM suite: the package's cpu side, exposed to page.evaluate. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {CPU_GEMM_FLAG, im2colConv2d} from '../../src';
import {availableCpuGemms, cpuGemm} from '../../src/cpu/gemm';

(globalThis as unknown as {gemmPage: unknown}).gemmPage =
    {tf, im2colConv2d, CPU_GEMM_FLAG, availableCpuGemms, cpuGemm};
