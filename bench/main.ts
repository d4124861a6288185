// `npm run bench -- [kernels|round|peers|scaling|lenet|queue|browser|threads|profile|all] [flags]`, or
// `npm run bench -- compare OLD.json NEW.json`. See README.md.
import { parseArgs } from 'node:util';
import { benchKernels } from './kernels.js';
import { benchRound } from './round.js';
import { benchPeers } from './peers.js';
import { benchScaling } from './scaling.js';
import { benchLenet } from './lenet.js';
import { benchAgainst } from './ab.js';
import { benchQueue } from './queue.js';
import { benchProfile } from './profile.js';
import { benchBrowser } from './browser.js';
import { benchThreads } from './threads.js';
import { compare } from './compare.js';
import { save } from './common.js';
import { ModelId } from '../src/models.js';
import { Build } from '../src/kernels.js';

const HELP = `Usage: npm run bench -- [kernels|round|peers|scaling|lenet|queue|browser|threads|profile|all] [flags]
       npm run bench -- compare OLD.json NEW.json

  kernels   every kernel on the study's shapes, SIMD and scalar  [--reps N] [--filter TEXT]
  round     one round of each model on one core                   [--models 1,2,3,4] [--builds simd,scalar] [--epochs N] [--repeat N]
            with --against DIR: this checkout against another built one, alternating, paired ratios
  peers     one epoch of models 2 and 4: simdnet vs TensorFlow.js [--epochs N alternating pairs]
  scaling   rounds per minute of the pool, 1..cores workers       [--epochs N]
  lenet     one epoch of LeNet-5 on 28×28 digits: simdnet vs TF.js [--epochs N alternating pairs]
  queue     8 rounds via the local pool and via Redis, 1 and 2 workers [--epochs N] (needs redis-server)
  browser   one round of models 2 and 4 in Chromium vs Node (SIMD) [--epochs N] [--repeat N] (needs chromium)
  threads   one round of models 2 and 4 on 1 and 2 threads; split kernels; call cost [--epochs N] [--repeat N]
  profile   one training step and evaluation pass, per layer and kernel [--models 2,4,lenet] [--threads N]
  all       all of them (the default)
Each prints a table and writes JSON under bench/results/.`;

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      reps: { type: 'string' }, filter: { type: 'string' }, epochs: { type: 'string' }, models: { type: 'string' },
      builds: { type: 'string' }, repeat: { type: 'string' }, threads: { type: 'string' }, against: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  const which = positionals[0] ?? 'all';
  if (values.help) return void console.log(HELP);
  const int = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`--${flag}: expected a positive integer, got "${v}"`);
    return Number(v);
  };
  const epochs = int('epochs', values.epochs);
  if (which === 'compare') {
    if (positionals.length !== 3) throw new Error('compare needs two files: npm run bench -- compare OLD.json NEW.json');
    return void console.log(compare(positionals[1], positionals[2]));
  }
  if (!['kernels', 'round', 'peers', 'scaling', 'lenet', 'queue', 'browser', 'threads', 'profile', 'all'].includes(which)) throw new Error(`unknown benchmark "${which}" (kernels, round, peers, scaling, lenet, queue, browser, threads, profile, all, compare)`);
  const log = (s: string) => console.error(s);
  const report = (name: string, r: { settings: object; rows: unknown; text: string }) => {
    console.log(`\n${name}\n${r.text}\nwritten ${save(name, r.settings, r.rows)}`);
  };
  if (which === 'profile') {
    const threads = int('threads', values.threads) ?? 1;
    for (const m of (values.models ?? '2').split(',')) report(`profile-${m === 'lenet' ? m : `model${m}`}${threads > 1 ? `-threads${threads}` : ''}`, await benchProfile({ model: m, threads, log }));
    return;
  }
  if (which === 'kernels' || which === 'all') report('kernels', await benchKernels({ reps: int('reps', values.reps), filter: values.filter }));
  if (which === 'round' || which === 'all') {
    const models = (values.models ?? '1,2,3,4').split(',').map(Number) as ModelId[];
    if (models.some((m) => ![1, 2, 3, 4].includes(m))) throw new Error(`--models: a comma-separated list of 1, 2, 3, 4, got "${values.models}"`);
    const builds = (values.builds ?? 'simd,scalar').split(',') as Build[];
    if (builds.some((b) => b !== 'simd' && b !== 'scalar')) throw new Error(`--builds: simd and/or scalar, got "${values.builds}"`);
    if (values.against) report('round-against', await benchAgainst({ against: values.against, models, epochs: epochs ?? 60, repeat: int('repeat', values.repeat), log }));
    else report('round', await benchRound({ models, epochs: epochs ?? 60, builds, repeat: int('repeat', values.repeat), log }));
  }
  if (which === 'peers' || which === 'all') report('peers', await benchPeers({ epochs, log }));
  if (which === 'scaling' || which === 'all') report('scaling', await benchScaling({ epochs, log }));
  if (which === 'lenet' || which === 'all') report('lenet', await benchLenet({ epochs, log }));
  if (which === 'queue' || which === 'all') report('queue', await benchQueue({ epochs, log }));
  if (which === 'threads' || which === 'all') report('threads', await benchThreads({ epochs, repeat: int('repeat', values.repeat), log }));
  if (which === 'browser' || which === 'all') report('browser', await benchBrowser({ epochs, repeat: int('repeat', values.repeat), log }));
}

main().catch((e) => {
  console.error(`bench: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
