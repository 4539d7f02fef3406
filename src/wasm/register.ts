/** Registers this package's kernels for tfjs's wasm backend (no import of the backend needed). */
import {registerDriver} from '../register';
import {wasmDriver} from './driver';

registerDriver(wasmDriver);
