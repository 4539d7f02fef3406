/**
 * What tfjs-core's own spec files (dist/ops/*_test.js) need around them, kept free of Node
 * modules so the browser suites bundle it into the page: a stand-in for tfjs-core's
 * `jasmine_util` (describeWithFlags, the *_ENVS constraints and the per-environment engine
 * lifecycle, as tfjs 4.22 has them), a `require` that maps the specs' relative imports of
 * tfjs-core's internals onto the tfjs-core instance in use, a collector that turns a spec
 * file into a tree of blocks and specs, a jasmine-compatible `expect` for the page, and an
 * async runner for that tree (the page has no jest; in Node the tree becomes jest tests).
 */

/** A test environment, as tfjs-core's jasmine_util has it. */
export interface TestEnv {
  name: string;
  backendName: string;
  flags?: Record<string, unknown>;
  isDataSync?: boolean;
}

/** A spec file's constraint on environments (tfjs-core's `Constraints`). */
export interface Constraints {
  flags?: Record<string, unknown>;
  predicate?: (testEnv: TestEnv) => boolean;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fn = (...args: any[]) => unknown;

export interface SpecNode {
  kind: 'it';
  name: string;
  fn: Fn;
}

export interface BlockNode {
  kind: 'describe';
  name: string;
  beforeAll: Fn[];
  beforeEach: Fn[];
  afterEach: Fn[];
  afterAll: Fn[];
  children: (BlockNode | SpecNode)[];
}

/** One spec file collected for one environment. */
export interface CollectedSuite {
  /** One block per describeWithFlags call whose constraints the environment meets. */
  blocks: BlockNode[];
  /** Specs whose describeWithFlags constraints the environment does not meet. */
  excluded: number;
}

/** The part of tfjs-core the runtime touches (the package namespace, or the page's). */
export interface TfjsCore {
  env(): {
    platformName: string;
    get(name: string): unknown;
    set(name: string, value: unknown): void;
    setFlags(flags: Record<string, unknown>): void;
  };
  engine(): {
    reset(): void;
    startScope(): void;
    endScope(): void;
    disposeVariables(): void;
    setBackend(name: string): Promise<boolean>;
  };
  test_util: unknown;
  util: unknown;
}

/** A spec file transformed to CommonJS, with its path under tfjs-core's dist/ (for imports). */
export interface SpecSource {
  /** e.g. 'ops/fused/fused_conv2d_test.js' */
  path: string;
  code: string;
}

function newBlock(name: string): BlockNode {
  return {kind: 'describe', name, beforeAll: [], beforeEach: [], afterEach: [], afterAll: [],
          children: []};
}

export function countSpecs(block: BlockNode): number {
  return block.children.reduce((n, c) => n + (c.kind === 'it' ? 1 : countSpecs(c)), 0);
}

/** `dir/../x` -> `x`: resolves a spec's relative import to a path under tfjs-core's dist/. */
function resolveUnderDist(fromPath: string, specifier: string): string {
  const parts = fromPath.split('/').slice(0, -1);
  for (const part of specifier.split('/')) {
    if (part === '..') {
      if (parts.length === 0) throw new Error(`import '${specifier}' leaves tfjs-core's dist/`);
      parts.pop();
    } else if (part !== '.' && part !== '') {
      parts.push(part);
    }
  }
  return parts.join('/').replace(/\.js$/, '');
}

/** Mirrors tfjs-core's envSatisfiesConstraints. */
function envSatisfiesConstraints(tf: TfjsCore, testEnv: TestEnv, constraints?: Constraints):
    boolean {
  if (constraints == null) return true;
  for (const [flag, value] of Object.entries(constraints.flags ?? {})) {
    if (tf.env().get(flag) !== value) return false;
  }
  return constraints.predicate == null || constraints.predicate(testEnv);
}

/**
 * Evaluates a spec file for one environment and returns its tree. The spec sees `describe`,
 * `it` and the hooks of this collector (as parameters, so jest's and the page's globals are
 * left alone), and its imports resolve as follows: `index` to `tf` itself, so the specs run
 * against the very engine and kernel registry the caller uses; `test_util` and `util` to
 * `tf.test_util` and `tf.util`; `jasmine_util` to the stand-in below. Any other internal
 * module is an error naming it, so a new suite that needs one fails loudly.
 */
export function collectSuite(tf: TfjsCore, source: SpecSource, testEnv: TestEnv): CollectedSuite {
  const root = newBlock('');
  let current = root;
  let excluded = 0;
  const inBlock = (block: BlockNode, body: () => void) => {
    const outer = current;
    current = block;
    try {
      const result = body() as unknown;
      if (result != null && typeof (result as Promise<void>).then === 'function') {
        throw new Error(`describe '${block.name}': an async describe body is not supported`);
      }
    } finally {
      current = outer;
    }
  };
  const api = {
    describe: (name: string, body: () => void) => {
      const block = newBlock(name);
      current.children.push(block);
      inBlock(block, body);
    },
    it: (name: string, fn: Fn) => {
      current.children.push({kind: 'it', name, fn});
    },
    beforeAll: (fn: Fn) => current.beforeAll.push(fn),
    beforeEach: (fn: Fn) => current.beforeEach.push(fn),
    afterEach: (fn: Fn) => current.afterEach.push(fn),
    afterAll: (fn: Fn) => current.afterAll.push(fn),
  };

  // tfjs-core 4.22's jasmine_util.describeWithFlags and executeTests, for TEST_ENVS = [testEnv].
  const describeWithFlags = (name: string, constraints: Constraints,
                             tests: (env: TestEnv) => void) => {
    tf.env().setFlags(testEnv.flags ?? {});
    tf.env().set('IS_TEST', true);
    if (!envSatisfiesConstraints(tf, testEnv, constraints)) {
      // Collected into a detached block only to count what the flags exclude.
      const detached = newBlock(name);
      inBlock(detached, () => tests(testEnv));
      excluded += countSpecs(detached);
      return;
    }
    api.describe(`${name} ${testEnv.name} ${JSON.stringify(testEnv.flags ?? {})}`, () => {
      api.beforeAll(async () => {
        tf.engine().reset();
        if (testEnv.flags != null) tf.env().setFlags(testEnv.flags);
        tf.env().set('IS_TEST', true);
        if (!(await tf.engine().setBackend(testEnv.backendName))) {
          throw new Error(`backend '${testEnv.backendName}' failed to initialise`);
        }
      });
      api.beforeEach(() => tf.engine().startScope());
      api.afterEach(() => {
        tf.engine().endScope();
        tf.engine().disposeVariables();
      });
      api.afterAll(() => tf.engine().reset());
      tests(testEnv);
    });
  };
  const jasmineUtil = {
    ALL_ENVS: {},
    NODE_ENVS: {predicate: () => tf.env().platformName === 'node'},
    BROWSER_ENVS: {predicate: () => tf.env().platformName === 'browser'},
    CHROME_ENVS: {flags: {IS_CHROME: true}},
    SYNC_BACKEND_ENVS: {predicate: (env: TestEnv) => env.isDataSync === true},
    HAS_WORKER: {predicate: () => typeof Worker !== 'undefined' && typeof Blob !== 'undefined' &&
                                  typeof URL !== 'undefined'},
    TEST_ENVS: [testEnv],
    describeWithFlags,
    envSatisfiesConstraints: (_env: unknown, env: TestEnv, constraints: Constraints) =>
        envSatisfiesConstraints(tf, env, constraints),
  };
  const modules: Record<string, unknown> = {
    index: tf, test_util: tf.test_util, util: tf.util, jasmine_util: jasmineUtil,
  };
  const require = (specifier: string) => {
    const target = specifier.startsWith('.') ? resolveUnderDist(source.path, specifier) : specifier;
    if (!(target in modules)) {
      throw new Error(`${source.path} imports '${specifier}' (tfjs-core's ${target}), which ` +
          `tfjs_spec_runtime does not map yet; add it to collectSuite's modules.`);
    }
    return modules[target];
  };
  const module = {exports: {}};
  new Function('module', 'exports', 'require', 'describe', 'it', 'beforeAll', 'beforeEach',
               'afterEach', 'afterAll', source.code)(
      module, module.exports, require, api.describe, api.it, api.beforeAll, api.beforeEach,
      api.afterEach, api.afterAll);
  return {blocks: root.children as BlockNode[], excluded};
}

/** Calls a jasmine spec or hook: a `done`-taking function waits for `done()`/`done.fail()`. */
export async function callJasmineFn(fn: Fn): Promise<void> {
  if (fn.length === 0) {
    await fn();
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const done = () => resolve();
    done.fail = (message?: unknown) => reject(message instanceof Error ? message :
                                             new Error(`done.fail(${String(message)})`));
    Promise.resolve().then(() => fn(done)).catch(reject);
  });
}

function isError(value: unknown): value is Error {
  return value instanceof Error || Object.prototype.toString.call(value) === '[object Error]';
}

/**
 * Jasmine's toThrowError (jest 30 has no such matcher): with no argument any Error; a string
 * must equal the message; a RegExp must match it; an Error type, optionally with a message.
 */
export function jasmineToThrowError(actual: unknown, expected?: unknown, message?: unknown):
    {pass: boolean, message: string} {
  if (typeof actual !== 'function') throw new Error('toThrowError: actual is not a function');
  let thrown: unknown;
  let threw = false;
  try {
    actual();
  } catch (error) {
    threw = true;
    thrown = error;
  }
  if (!threw) return {pass: false, message: 'Expected function to throw an Error.'};
  if (!isError(thrown)) {
    return {pass: false, message: `Expected function to throw an Error, but it threw ${String(thrown)}.`};
  }
  let type: Function | null = null;  // eslint-disable-line @typescript-eslint/ban-types
  let wanted = expected;
  if (typeof expected === 'function') {
    type = expected;
    wanted = message;
  }
  if (type != null && !(thrown instanceof type)) {
    return {pass: false, message: `Expected function to throw ${type.name}, but it threw ${thrown}.`};
  }
  const text = thrown.message;
  if (wanted == null) return {pass: true, message: `Expected function not to throw, but it threw ${thrown}.`};
  const pass = wanted instanceof RegExp ? wanted.test(text) : text === String(wanted);
  return {
    pass,
    message: pass ? `Expected function not to throw an Error matching ${String(wanted)}.` :
                    `Expected function to throw an Error matching ${String(wanted)}, but it ` +
                        `threw ${thrown}.`
  };
}

/** Jasmine's deep equality for what the specs compare (shapes, dtypes, plain data). */
function jasmineEquals(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a == null || b == null) return false;
  if (Object.prototype.toString.call(a) !== Object.prototype.toString.call(b)) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  if (Array.isArray(a) && a.length !== (b as unknown[]).length) return false;
  return keysA.every(k => Object.prototype.hasOwnProperty.call(b, k) &&
                          jasmineEquals((a as Record<string, unknown>)[k],
                                        (b as Record<string, unknown>)[k]));
}

/**
 * A jasmine-compatible `expect` for the page, with the matchers tfjs's conv specs and
 * test_util use (toEqual, toBe, toThrowError, toBeCloseTo, toBeTruthy/Falsy, nothing, `.not`).
 * Unknown matchers are undefined, so a spec that needs one fails with a TypeError.
 */
export function jasmineExpect(actual: unknown) {
  const show = (v: unknown) => {
    try {
      return JSON.stringify(v) ?? String(v);
    } catch {
      return String(v);
    }
  };
  const matchers = (negate: boolean) => {
    const check = (pass: boolean, message: string, negatedMessage: string) => {
      if (pass === negate) throw new Error(negate ? negatedMessage : message);
    };
    return {
      toEqual: (e: unknown) => check(jasmineEquals(actual, e),
          `Expected ${show(actual)} to equal ${show(e)}.`, `Expected ${show(actual)} not to equal ${show(e)}.`),
      toBe: (e: unknown) => check(actual === e, `Expected ${show(actual)} to be ${show(e)}.`,
          `Expected ${show(actual)} not to be ${show(e)}.`),
      toBeCloseTo: (e: number, precision = 2) =>
          check(Math.abs(e - (actual as number)) < Math.pow(10, -precision) / 2,
                `Expected ${actual} to be close to ${e}.`, `Expected ${actual} not to be close to ${e}.`),
      toBeTruthy: () => check(!!actual, `Expected ${show(actual)} to be truthy.`,
          `Expected ${show(actual)} not to be truthy.`),
      toBeFalsy: () => check(!actual, `Expected ${show(actual)} to be falsy.`,
          `Expected ${show(actual)} not to be falsy.`),
      toThrowError: (e?: unknown, m?: unknown) => {
        const {pass, message} = jasmineToThrowError(actual, e, m);
        check(pass, message, message);
      },
      nothing: () => undefined,
    };
  };
  return {...matchers(false), not: matchers(true)};
}

export interface SpecOutcome {
  name: string;
  /** The error message when the spec failed (in a hook or in the spec). */
  error?: string;
}

function message(error: unknown): string {
  return isError(error) ? `${error.message}\n${(error.stack ?? '').split('\n').slice(1, 6).join('\n')}` :
                          String(error);
}

/**
 * Runs collected blocks as jasmine does (beforeAll, then per spec the beforeEach hooks outer
 * to inner, `beforeSpec`, the spec, the afterEach hooks inner to outer; then afterAll),
 * sequentially. A failing beforeAll fails every spec of its block.
 */
export async function runBlocks(blocks: BlockNode[], beforeSpec: () => void = () => undefined):
    Promise<SpecOutcome[]> {
  const outcomes: SpecOutcome[] = [];
  const run = async (block: BlockNode, path: string, befores: Fn[], afters: Fn[]) => {
    const name = path ? `${path} ${block.name}` : block.name;
    try {
      for (const hook of block.beforeAll) await callJasmineFn(hook);
    } catch (error) {
      const all: string[] = [];
      const walk = (b: BlockNode, p: string) => b.children.forEach(
          c => c.kind === 'it' ? all.push(`${p} ${c.name}`) : walk(c, `${p} ${c.name}`));
      walk(block, name);
      for (const spec of all) outcomes.push({name: spec, error: `beforeAll: ${message(error)}`});
      return;
    }
    const eachBefore = [...befores, ...block.beforeEach];
    const eachAfter = [...block.afterEach, ...afters];
    for (const child of block.children) {
      if (child.kind === 'describe') {
        await run(child, name, eachBefore, eachAfter);
        continue;
      }
      let failure: unknown = undefined;
      let failed = false;
      try {
        for (const hook of eachBefore) await callJasmineFn(hook);
        beforeSpec();
        await callJasmineFn(child.fn);
      } catch (error) {
        failed = true;
        failure = error;
      }
      for (const hook of eachAfter) {
        try {
          await callJasmineFn(hook);
        } catch (error) {
          if (!failed) failure = error;
          failed = true;
        }
      }
      outcomes.push({name: `${name} ${child.name}`, ...(failed ? {error: message(failure)} : {})});
    }
    for (const hook of block.afterAll) await callJasmineFn(hook);
  };
  for (const block of blocks) await run(block, '', [], []);
  return outcomes;
}
