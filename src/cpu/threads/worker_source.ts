/**
 * The workers' code, as source text: a worker instantiates the threaded GEMM module on the
 * pool's shared memory and runs its work loop (runTickets) for each job, waiting on the
 * control block between jobs. Text, so a worker starts from a Blob URL (browsers) or an eval
 * (Node) with nothing to fetch or resolve; it needs no tfjs.
 */
import {Control} from './control';

function workerMain(C: typeof Control, SPIN_MS: number): void {
  interface Start {
    module: WebAssembly.Module;
    memory: WebAssembly.Memory;
    index: number;
  }
  function run({module, memory, index}: Start, die: () => void): void {
    const instance = new WebAssembly.Instance(module, {env: {memory}});
    const runTickets = instance.exports.runTickets as
        (control: number, thread: number, most: number) => number;
    const control = new Int32Array(memory.buffer, 0, 64);
    Atomics.add(control, C.READY, 1);
    Atomics.notify(control, C.READY);
    let seen = 0;
    for (;;) {
      // A short spin first: the next job (a transposed convolution's next tile, say) often
      // comes sooner than a sleeping thread wakes, about 0.1 ms late here.
      const spinUntil = Date.now() + SPIN_MS;
      while (Atomics.load(control, C.GENERATION) === seen && Date.now() < spinUntil) {}
      Atomics.wait(control, C.GENERATION, seen);
      seen = Atomics.load(control, C.GENERATION);
      if (Atomics.load(control, C.DIE) === index + 1) {
        // The test hook: dies holding a ticket of this job, if one is left.
        const next = Atomics.add(new BigInt64Array(memory.buffer, 0, 8), C.NEXT / 2, BigInt(1));
        if (BigInt.asUintN(32, next) < next >> BigInt(32)) {
          die();
          return;
        }
        continue;
      }
      runTickets(0, index, 0x7fffffff);
    }
  }
  const host = globalThis as unknown as {
    process?: {versions?: {node?: string}, exit(code: number): never,
               getBuiltinModule?: (name: string) => {workerData: Start}};
    require?: (name: string) => {workerData: Start};
    onmessage: ((event: {data: Start}) => void) | null;
    close(): void;
  };
  if (host.process?.versions?.node != null) {
    // Not a plain `require`: bundlers rewrite those, and this function runs as text. Node
    // runs an eval'd worker as it runs `node -e`, with `require` on the global object.
    const {workerData} = host.process.getBuiltinModule?.('worker_threads') ??
        host.require!('worker_threads');
    run(workerData, () => host.process!.exit(0));
  } else {
    host.onmessage = event => {
      host.onmessage = null;
      run(event.data, () => host.close());
    };
  }
}

/** How long an idle worker spins for the next job before it sleeps, in milliseconds. */
const WORKER_SPIN_MS = 2;

/** The worker script. */
export function workerSource(): string {
  return `(${workerMain.toString()})(${JSON.stringify(Control)}, ${WORKER_SPIN_MS});\n`;
}
