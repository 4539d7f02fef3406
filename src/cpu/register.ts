/** Registers this package's kernels for tfjs's cpu backend (no import of the backend needed). */
import {registerDriver} from '../register';
import {cpuDriver} from './driver';

registerDriver(cpuDriver);
