/** GLSL helpers shared by this package's WebGL programs. */

/**
 * Texel addressing of tfjs's packed textures. Whatever 2D shape tfjs gives a packed
 * texture, its texels hold the tensor's 2x2 blocks in flat order (batch, row pair, column
 * pair), laid row by row over the texture's width. So a program that knows the width can
 * walk a run of consecutive blocks one step per block, where tfjs's samplers recompute the
 * full address for every read.
 */
export const TEXEL_WALK_GLSL = `
  ivec2 texelAt(int index, int width) {
    int row = index / width;
    return ivec2(index - row * width, row);
  }
  ivec2 nextTexel(ivec2 at, int width) {
    return at.x + 1 == width ? ivec2(0, at.y + 1) : ivec2(at.x + 1, at.y);
  }
`;

/**
 * GLSL expression reading texel `at` (an ivec2 expression: column, row in texels) of the
 * packed texture `sampler`, `size` = [width, height] in texels. It samples the texel centre
 * with `texture()` (tfjs's textures are nearest-filtered, without mipmaps) rather than
 * `texelFetch`: on SwiftShader, WebGL's software renderer, a GEMM reading with `texelFetch`
 * took about 1.4x as long as the same GEMM reading with `texture()`.
 */
export function readTexel(sampler: string, at: string, size: [number, number]): string {
  return `texture(${sampler}, (vec2(${at}) + 0.5) / vec2(${size[0]}., ${size[1]}.))`;
}

/** The value at (row, col) of a packed 2x2 block, from the parities of row and col. */
export const PICK_VALUE_GLSL = `
  float pickValue(vec4 block, int row, int col) {
    vec2 pair = (row & 1) == 0 ? block.xy : block.zw;
    return (col & 1) == 0 ? pair.x : pair.y;
  }
`;

/**
 * [width, height], in texels, of a packed texture whose tfjs texture shape ([rows, columns],
 * in values) is given.
 */
export function packedTexelSize(texShape: [number, number]): [number, number] {
  return [Math.ceil(texShape[1] / 2), Math.ceil(texShape[0] / 2)];
}
