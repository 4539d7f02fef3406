/**
 * Bodies of the fused activations for packed (vec4) shaders, the same formulas as tfjs's
 * webgl kernels: `vec4 activation(vec4 x)`, or for prelu/leakyrelu `vec4 activation(vec4 a)`
 * with the weights in `b` (see GemmEpilogue.activation).
 */
import type {FusedActivation} from '../../geometry';

const KEEP_NAN = `
  bvec4 isNaN = isnan(x);
  result.r = isNaN.r ? x.r : result.r;
  result.g = isNaN.g ? x.g : result.g;
  result.b = isNaN.b ? x.b : result.b;
  result.a = isNaN.a ? x.a : result.a;
  return result;`;

const NEGATIVE_SLOPE = `
  vec4 aLessThanZero = vec4(lessThan(a, vec4(0.)));
  return (aLessThanZero * (b * a)) + ((vec4(1.0) - aLessThanZero) * a);`;

export const PACKED_ACTIVATIONS: Record<Exclude<FusedActivation, 'linear'>, string> = {
  relu: `vec4 result = x * vec4(greaterThanEqual(x, vec4(0.0)));${KEEP_NAN}`,
  relu6: `vec4 result = min(x, vec4(6.)) * vec4(greaterThanEqual(x, vec4(0.0)));${KEEP_NAN}`,
  elu: `
  vec4 result;
  result.r = (x.r >= 0.0) ? x.r : (exp(x.r) - 1.0);
  result.g = (x.g >= 0.0) ? x.g : (exp(x.g) - 1.0);
  result.b = (x.b >= 0.0) ? x.b : (exp(x.b) - 1.0);
  result.a = (x.a >= 0.0) ? x.a : (exp(x.a) - 1.0);
  return result;`,
  sigmoid: `return 1.0 / (1.0 + exp(-1.0 * x));`,
  prelu: NEGATIVE_SLOPE,
  leakyrelu: NEGATIVE_SLOPE,
};
