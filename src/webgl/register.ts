/** Registers this package's kernels for tfjs's webgl backend (no import of the backend needed). */
import {registerDriver} from '../register';
import {webglDriver} from './driver';

registerDriver(webglDriver);
