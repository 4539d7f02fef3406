import type {KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import type {BackendDriver, KernelArgs} from '../engine/driver';
import {state, warnOnce} from '../state';
import {countHandedCall} from '../stats';

/**
 * `run`, where the driver's backend can run this package's kernels now. Where it cannot, a
 * kernel of this package throws the reason; a stand-in (`standIn`) runs the tfjs kernel that
 * useIm2col replaced, with one warning, so switching never breaks a working tfjs op. A
 * stand-in also hands the calls the driver says the backend's own kernel runs faster to it
 * (`onHanded` then sees the result, as the stand-in's own code would have).
 */
export function whereSupported<A>(driver: BackendDriver, kernelName: string, standIn: boolean,
                                  run: (args: A) => TensorInfo,
                                  onHanded?: (out: TensorInfo, args: A) => void): KernelFunc {
  const kernelFunc = (args: A): TensorInfo => {
    const reason = driver.unsupported();
    const original = standIn ? state.replaced.get(`${driver.backendName}/${kernelName}`) : undefined;
    if (original != null && driver.handsToBackend?.(kernelName, args as KernelArgs)) {
      countHandedCall(kernelName, driver.backendName);
      const out = original.kernelFunc(args as never) as TensorInfo;
      onHanded?.(out, args);
      return out;
    }
    if (reason == null) return run(args);
    if (original == null) throw new Error(`${kernelName}: ${reason}.`);
    warnOnce(`unsupported/${driver.backendName}`, `tfjs-im2col: ${reason}; ` +
        `tfjs's own ${driver.backendName} kernels run the convolutions instead.`);
    return original.kernelFunc(args as never) as TensorInfo;
  };
  return kernelFunc as unknown as KernelFunc;
}
