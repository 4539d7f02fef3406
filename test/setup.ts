import {env} from '@tensorflow/tfjs-core';

// Silences tfjs's "install tfjs-node" advice; it changes no computation.
env().set('IS_TEST', true);
