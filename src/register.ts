/**
 * Registration: a backend's driver becomes registered kernels (and the stand-ins useIm2col
 * swaps in), once per backend in this realm whichever copy of the package gets there first.
 * (The kernels' gradients are backend-neutral: api.ts registers them.)
 */
import {registerKernel} from '@tensorflow/tfjs-core';
import type {BackendDriver} from './engine/driver';
import {im2colKernelConfigs, standInKernelConfigs} from './kernels';
import {registerOnce, state} from './state';

export function registerDriver(driver: BackendDriver): void {
  registerOnce(`kernels/${driver.backendName}`, () => {
    for (const config of im2colKernelConfigs(driver)) registerKernel(config);
    state.drivers.set(driver.backendName, {driver, standIns: standInKernelConfigs(driver)});
  });
}
