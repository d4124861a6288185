// `npm run bench -- [kernels|round|compare OLD NEW] [--flags]`: see README.md.
import { parseArgs } from 'node:util';
import { benchKernels } from './kernels.js';
import { save } from './common.js';
import { benchRound } from './round.js';
import { ModelId } from '../src/models.js';
import { Build } from '../src/kernels.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { reps: { type: 'string' }, filter: { type: 'string' }, epochs: { type: 'string' }, models: { type: 'string' }, builds: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
const which = positionals[0] ?? 'all';

async function main() {
  if (which === 'kernels' || which === 'all') {
    const r = await benchKernels({ reps: values.reps ? Number(values.reps) : undefined, filter: values.filter });
    console.log(r.text);
    console.log('\nwritten', save('kernels', r.settings, r.rows));
  }
  if (which === 'round' || which === 'all') {
    const models = (values.models ?? '1,2,3,4').split(',').map(Number) as ModelId[];
    const builds = (values.builds ?? 'simd,scalar').split(',') as Build[];
    const r = await benchRound({ models, epochs: values.epochs ? Number(values.epochs) : 60, builds, log: (s) => console.error(s) });
    console.log(r.text);
    console.log('\nwritten', save('round', r.settings, r.rows));
  }
}

main().catch((e) => {
  console.error(`bench: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
