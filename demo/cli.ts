/**
 * `npm run demo`: the article's three examples in the terminal. For each: X, the patch
 * matrix P, the flattened filters K, K·P and the output, then a check against tf.conv2d
 * (or, where tf.conv2d refuses stride with dilation, the stride-1 dilated convolution
 * subsampled with tf.stridedSlice).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {explainConv1d, explainConv2d} from '../src';
import {ARTICLE_EXAMPLES, ArticleExample} from './article_examples';

function formatMatrix(name: string, rows: number[][]): string {
  const cells = rows.map(r => r.map(v => String(Math.round(v * 1e4) / 1e4)));
  const width = Math.max(...cells.flat().map(c => c.length));
  const lines = cells.map(r => '  [' + r.map(c => c.padStart(width)).join(' ') + ']');
  return `${name} (${rows.length}x${rows[0]?.length ?? 0}):\n${lines.join('\n')}`;
}

/** The input as the article draws it: one matrix per channel. */
function formatInput(example: ArticleExample): string {
  const x = example.kind === 'conv2d' ? example.x as number[][][] :
                                        [example.x as number[][]];  // 1D: one row of length W
  const channels = x[0][0].length;
  return Array.from({length: channels}, (_, c) =>
      formatMatrix(`X channel ${c}`, x.map(row => row.map(px => px[c])))).join('\n');
}

/** tf.conv2d's answer as an [outHeight * outWidth, outChannels] matrix. */
function reference(example: ArticleExample): number[][] {
  return tf.tidy(() => {
    const x4 = example.kind === 'conv2d' ? tf.tensor4d([example.x as number[][][]]) :
                                           tf.tensor4d([[example.x as number[][]]]);
    const filter = example.kind === 'conv2d' ? tf.tensor4d(example.filter as number[][][][]) :
                                               tf.tensor4d([example.filter as number[][][]]);
    const p = typeof example.pad === 'number' ? example.pad : 0;
    const padding: [[number, number], [number, number], [number, number], [number, number]] =
        example.kind === 'conv2d' ? [[0, 0], [p, p], [p, p], [0, 0]] : [[0, 0], [0, 0], [p, p], [0, 0]];
    const {stride, dilation} = example;
    let out: tf.Tensor4D;
    if (stride > 1 && dilation > 1) {
      const dense = tf.conv2d(x4, filter, 1, padding, 'NHWC', dilation);
      out = tf.stridedSlice(dense, [0, 0, 0, 0], dense.shape,
                            [1, example.kind === 'conv2d' ? stride : 1, stride, 1]) as tf.Tensor4D;
    } else {
      out = tf.conv2d(x4, filter, stride, padding, 'NHWC', dilation);
    }
    return tf.reshape(out, [-1, out.shape[3]]).arraySync() as number[][];
  });
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  let allMatch = true;
  for (const example of ARTICLE_EXAMPLES) {
    const {P, K, KP, output} = example.kind === 'conv2d' ?
        explainConv2d(example.x as number[][][], example.filter as number[][][][], example.stride,
                      example.pad, example.dilation) :
        explainConv1d(example.x as number[][], example.filter as number[][][], example.stride,
                      example.pad, example.dilation);
    const kp = KP.arraySync();
    const outRows = tf.tidy(() => tf.reshape(output, [-1, output.shape[output.rank - 1]]).arraySync() as number[][]);
    const expected = reference(example);
    const refused = example.stride > 1 && example.dilation > 1;
    const maxError = Math.max(...expected.flatMap((row, i) => row.map((v, o) =>
        Math.max(Math.abs(v - outRows[i][o]), Math.abs(v - kp[o][i])))));
    const match = maxError <= 1e-3;
    allMatch = allMatch && match;
    console.log(`\n=== ${example.title}`);
    console.log(formatInput(example));
    console.log(formatMatrix('P: one column per patch', P.arraySync()));
    console.log(formatMatrix('K: one row per filter', K.arraySync()));
    console.log(formatMatrix('K·P: row = output channel, column = output position', kp));
    console.log(`output shape [${output.shape}] (channels last):`);
    console.log(formatMatrix('output, one row per position', outRows));
    console.log(`check: ${match ? 'matches' : 'DOES NOT MATCH'} ` +
        (refused ? 'the stride-1 dilated tf.conv2d subsampled by 2 (tf.conv2d refuses stride ' +
                   'with dilation)' : 'tf.conv2d') + ` (max abs difference ${maxError})`);
    tf.dispose([P, K, KP, output]);
  }
  console.log(allMatch ? '\nAll examples match the reference.' : '\nSome examples did NOT match.');
  if (!allMatch) process.exitCode = 1;
}

main().catch(error => {
  console.error(error);
  process.exitCode = 1;
});
