// The page: a study's settings, its rounds on Web Workers (pool.ts), Figure 1
// and Table 1 filling in as rounds finish, downloads, and a panel to try the
// trained networks (draw.ts). Everything numeric comes from the core (src/),
// the same code as in Node.
import { View, parse } from 'vega';
import { compile } from 'vega-lite';
import {
  aggregate, checkSettings, figureSpec, FIGURE1, loadDigits, drawRound, loadKernels, resolveBuild, simdSupported, roundTask, tableRows, tableCsv,
  PairModel, decodeSafetensors, loadNetTensors, fetchedAssets, preloadKernels, roundThreads, MODEL_IDS, STUDY_DEFAULTS,
} from '../src/index.js';
import type { Build, BuildChoice, ModelId, RoundRecord, RoundTask, StudySettings, ModelAggregate, Kernels } from '../src/index.js';
import { RoundPool, roundKey } from './pool.js';
import { Pad } from './draw.js';
import { keepForOffline } from './offline.js';

declare const __SIMDNET_VERSION__: string;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('settings');
const field = (name: string) => form.elements.namedItem(name) as HTMLInputElement;
const startButton = $<HTMLButtonElement>('start'), stopButton = $<HTMLButtonElement>('stop');
const progress = $<HTMLProgressElement>('progress'), status = $<HTMLParagraphElement>('status');

interface Failure { model: ModelId; round: number; error: string }

/** The study on the page: settings, finished rounds by (model, round), epochs done per round in flight. */
const study = {
  settings: null as StudySettings | null,
  workers: 0,
  threads: 1,
  rounds: new Map<string, RoundRecord>(),
  failures: [] as Failure[],
  epochsDone: new Map<string, number>(),
  /** Round 0's trained weights per model (safetensors), for the panel. */
  weights: new Map<ModelId, Uint8Array>(),
  seconds: 0,
  running: null as RoundPool | null,
};

function setState(state: 'idle' | 'running' | 'done' | 'stopped' | 'error', message: string): void {
  document.body.dataset.state = state;
  status.textContent = message;
  status.classList.toggle('error', state === 'error');
}

// ---- settings: the form, prefilled from the address (?models=2,4&rounds=2&epochs=3&start=1) ----

const cores = navigator.hardwareConcurrency || 1;
field('workers').value = String(cores);
const query = new URLSearchParams(location.search);
for (const [k, v] of query) {
  if (k === 'models') {
    const want = v.split(',');
    for (const box of form.querySelectorAll<HTMLInputElement>('input[name=model]')) box.checked = want.includes(box.value);
  } else if (['rounds', 'epochs', 'pairs', 'seed', 'workers', 'build'].includes(k)) field(k).value = v;
}

async function readSettings(): Promise<{ settings: StudySettings; workers: number }> {
  const models = [...form.querySelectorAll<HTMLInputElement>('input[name=model]:checked')].map((b) => Number(b.value) as ModelId);
  const int = (k: string) => (field(k).value.trim() === '' ? NaN : Number(field(k).value));
  const settings: StudySettings = {
    models, rounds: int('rounds'), epochs: int('epochs'), pairs: int('pairs'), seed: int('seed'),
    build: await resolveBuild(field('build').value as BuildChoice),
  };
  checkSettings(settings);
  const workers = int('workers');
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`workers: a positive integer, got ${field('workers').value}`);
  return { settings, workers };
}

// ---- the run ----

const sorted = () => [...study.rounds.values()].sort((a, b) => a.model - b.model || a.round - b.round);

async function start(): Promise<void> {
  let next: { settings: StudySettings; workers: number };
  try {
    next = await readSettings();
  } catch (e) {
    setState('error', (e as Error).message);
    return;
  }
  const same = study.settings && JSON.stringify(study.settings) === JSON.stringify(next.settings);
  if (!same && study.rounds.size > 0) {
    if (!confirm(`Discard the ${study.rounds.size} finished rounds of the last study? (Download them first to keep them.)`)) return;
  }
  if (!same) {
    Object.assign(study, { rounds: new Map(), failures: [], weights: new Map(), seconds: 0 });
    for (const pm of networks.values()) pm.model.dispose();
    networks.clear();
    render();
  }
  const s = next.settings;
  // the kernels and digits, fetched here once and handed to every worker: the study then needs no network
  try {
    await Promise.all([kernelsFor(s.build), loadDigits(), crossOriginIsolated ? preloadKernels(s.build, true) : null]);
  } catch (e) {
    setState('error', `cannot load simdnet's files: ${(e as Error).message}`);
    return;
  }
  study.settings = s;
  study.failures = [];
  study.epochsDone = new Map([...study.rounds.keys()].map((k) => [k, s.epochs]));
  // round-major, so every model's curve grows from the start
  const tasks: RoundTask[] = [];
  for (let r = 0; r < s.rounds; r++) for (const m of s.models) if (!study.rounds.has(roundKey({ model: m, round: r }))) tasks.push(roundTask(s, m, r));
  study.workers = Math.min(next.workers, Math.max(1, tasks.length));
  // fewer rounds than workers: the idle cores join the rounds as kernel threads (where the page is isolated)
  study.threads = crossOriginIsolated ? roundThreads(next.workers, tasks.length, cores) : 1;
  const pool = new RoundPool(study.workers, {
    epoch: (t, rec) => {
      study.epochsDone.set(roundKey(t), rec.epoch);
      showProgress();
    },
    done: (rec, weights) => {
      study.rounds.set(roundKey(rec), rec);
      study.epochsDone.set(roundKey(rec), s.epochs);
      if (weights) study.weights.set(rec.model, weights);
      scheduleRender();
    },
    failed: (t, error) => {
      study.failures.push({ model: t.model, round: t.round, error });
      study.epochsDone.set(roundKey(t), s.epochs);
      scheduleRender();
    },
  }, fetchedAssets());
  study.running = pool;
  startButton.disabled = true;
  stopButton.disabled = false;
  const began = performance.now(), before = study.seconds;
  const tick = setInterval(() => {
    study.seconds = before + (performance.now() - began) / 1000;
    showProgress();
  }, 500);
  setState('running', `Training ${tasks.length} rounds on ${workersText()}…`);
  await pool.run(tasks, (t) => t.round === 0, study.threads);
  clearInterval(tick);
  study.seconds = before + (performance.now() - began) / 1000;
  const stopped = study.running === null;
  study.running = null;
  startButton.disabled = false;
  stopButton.disabled = true;
  render();
  const done = study.rounds.size, all = s.models.length * s.rounds;
  const failed = study.failures.length ? `; ${study.failures.length} failed: ${study.failures.map((f) => `model ${f.model} round ${f.round} (${f.error})`).join(', ')}` : '';
  if (stopped) setState('stopped', `Stopped: ${done} of ${all} rounds finished and kept${failed}. Start again with the same settings to continue.`);
  else setState(failed ? 'error' : 'done', `Done: ${done} of ${all} rounds in ${minutes(study.seconds)}${failed}.`);
}

function stop(): void {
  const pool = study.running;
  study.running = null;
  pool?.stop();
}

const workersText = () => `${study.workers} worker${study.workers === 1 ? '' : 's'}${study.threads > 1 ? `, ${study.threads} kernel threads each` : ''}`;

const minutes = (sec: number) => (sec < 60 ? `${sec.toFixed(0)} s` : `${Math.floor(sec / 60)} min ${Math.round(sec % 60)} s`);

function showProgress(): void {
  const s = study.settings;
  if (!s || !study.running) return;
  const total = s.models.length * s.rounds * s.epochs;
  let done = 0;
  for (const e of study.epochsDone.values()) done += e;
  const f = done / total;
  progress.value = f;
  const eta = f > 0 && f < 1 ? `, about ${minutes((study.seconds * (1 - f)) / f)} left` : '';
  setState('running', `${study.rounds.size} of ${s.models.length * s.rounds} rounds (${(100 * f).toFixed(1)} % of the epochs) in ${minutes(study.seconds)}${eta}; ${workersText()}.`);
}

// ---- Figure 1 and Table 1 ----

let renderTimer: number | null = null;
function scheduleRender(): void {
  renderTimer ??= window.setTimeout(() => {
    renderTimer = null;
    render();
  }, 300);
}

function aggregates(): ModelAggregate[] {
  const s = study.settings;
  if (!s) return [];
  const have = s.models.filter((m) => [...study.rounds.values()].some((r) => r.model === m));
  return have.length ? aggregate(have, sorted()) : [];
}

let view: View | null = null;
function render(): void {
  const aggs = aggregates();
  const chart = $('chart'), table = $('table');
  view?.finalize();
  view = null;
  chart.replaceChildren();
  table.replaceChildren();
  $<HTMLButtonElement>('download-json').disabled = $<HTMLButtonElement>('download-csv').disabled = aggs.length === 0;
  $<HTMLButtonElement>('pick').disabled = study.weights.size === 0;
  if (!aggs.length) return;
  const n = Math.max(...aggs.map((a) => a.rounds));
  const spec = compile(figureSpec(aggs, `Test accuracy per epoch (mean ± 1 std over up to ${n} round${n === 1 ? '' : 's'})`, FIGURE1)).spec;
  view = new View(parse(spec), { renderer: 'canvas', container: chart, hover: false });
  void view.runAsync();
  const [head, ...rows] = tableRows(aggs);
  const t = document.createElement('table');
  const original = (i: number) => (head[i].startsWith('original') ? 'original' : '');
  t.innerHTML = '';
  const tr = t.createTHead().insertRow();
  head.forEach((h, i) => {
    const th = document.createElement('th');
    th.textContent = h;
    th.className = original(i);
    tr.append(th);
  });
  const body = t.createTBody();
  for (const r of rows) {
    const row = body.insertRow();
    r.forEach((c, i) => {
      const td = row.insertCell();
      td.textContent = c;
      td.className = original(i);
    });
  }
  table.append(t);
}

// ---- downloads ----

function download(name: string, text: string, type: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/** The same shape as the Node report's results.json (machine: the browser's). */
function results() {
  const s = study.settings!;
  return {
    settings: s,
    machine: { userAgent: navigator.userAgent, cores, build: s.build, workers: study.workers, threadsPerRound: study.threads, crossOriginIsolated },
    software: { simdnet: __SIMDNET_VERSION__, runtime: 'browser page' },
    wallSeconds: study.seconds,
    complete: study.rounds.size === s.models.length * s.rounds,
    aggregates: aggregates(),
    failures: study.failures,
    rounds: sorted(),
  };
}

$('download-json').addEventListener('click', () => download('results.json', JSON.stringify(results(), null, 1) + '\n', 'application/json'));
$('download-csv').addEventListener('click', () => download('table.csv', tableCsv(aggregates()), 'text/csv'));

// ---- try the networks ----

const networks = new Map<ModelId, PairModel>();
const kernels = new Map<Build, Promise<Kernels>>();
function kernelsFor(build: Build): Promise<Kernels> {
  if (!kernels.has(build)) kernels.set(build, loadKernels(build));
  return kernels.get(build)!;
}
const verdicts = $<HTMLUListElement>('verdicts');
const pads = [0, 1].map((i) => new Pad($<HTMLCanvasElement>(`pad${i}`), () => void predict()));

async function network(m: ModelId): Promise<PairModel> {
  let pm = networks.get(m);
  if (!pm) {
    pm = new PairModel(await kernelsFor(study.settings!.build), m, 1, 0);
    loadNetTensors(pm.net, decodeSafetensors(study.weights.get(m)!, `model ${m}'s weights`).tensors);
    networks.set(m, pm);
  }
  return pm;
}

/** Round 0's normalisation (its training pixels' mean and std): the networks' inputs are normalised as their training data was. Drawn once per study. */
let round0: { seed: number; pairs: number; mean: number; std: number } | null = null;
async function round0Normalisation(s: StudySettings): Promise<{ mean: number; std: number }> {
  if (round0?.seed !== s.seed || round0.pairs !== s.pairs) {
    const { mean, std } = drawRound(await loadDigits(), s.seed, s.pairs);
    round0 = { seed: s.seed, pairs: s.pairs, mean, std };
  }
  return round0;
}

async function predict(): Promise<void> {
  const s = study.settings;
  const [a, b] = pads.map((p) => p.digit());
  if (!s || !a || !b || study.weights.size === 0) {
    verdicts.innerHTML = `<li>${study.weights.size ? 'Draw a digit in both boxes.' : 'Train first: round 0 of a model gives its network.'}</li>`;
    return;
  }
  const { mean, std } = await round0Normalisation(s);
  const norm = (x: Float32Array) => x.map((v) => (v - mean) / std);
  const items: string[] = [];
  for (const m of MODEL_IDS.filter((id) => study.weights.has(id))) {
    const out = (await network(m)).model.predict([norm(a), norm(b)]);
    const p = 1 / (1 + Math.exp(-out[0][0]));
    let line = `model ${m}: the first is ${p > 0.5 ? 'larger' : 'not larger'} (p = ${p.toFixed(3)})`;
    if (out[1]) {
      const argmax = (from: number) => out[1].subarray(from, from + 10).reduce((best, v, i, xs) => (v > xs[best] ? i : best), 0);
      line += `; it reads ${argmax(0)} and ${argmax(10)}`;
    }
    items.push(line);
  }
  verdicts.replaceChildren(...items.map((t) => Object.assign(document.createElement('li'), { textContent: t })));
}

$('clear').addEventListener('click', () => {
  pads.forEach((p) => p.clear());
  verdicts.replaceChildren();
});
$('pick').addEventListener('click', async () => {
  const pool = await loadDigits();
  const labels = pads.map((p) => {
    const i = pool.test[Math.floor(Math.random() * pool.test.length)];
    p.show(pool.images.subarray(i * 196, (i + 1) * 196));
    return pool.labels[i];
  });
  await predict();
  verdicts.prepend(Object.assign(document.createElement('li'), { className: 'truth', textContent: `test digits ${labels[0]} and ${labels[1]}: the first is ${labels[0] > labels[1] ? 'larger' : 'not larger'}` }));
});

// ---- wiring ----

form.addEventListener('submit', (e) => {
  e.preventDefault();
  void start();
});
stopButton.addEventListener('click', stop);
void simdSupported().then((simd) => {
  $('about').textContent = `simdnet ${__SIMDNET_VERSION__} · ${simd ? 'WebAssembly SIMD' : 'scalar WebAssembly (this browser has no SIMD)'} · ${cores} logical cores · ` +
    `${crossOriginIsolated ? 'cross-origin isolated' : 'not cross-origin isolated'} · the full study: ${STUDY_DEFAULTS.rounds} rounds of ${STUDY_DEFAULTS.epochs} epochs`;
});
// fetch the kernels and the digits now: from here on the page needs no network
setState('idle', 'Loading simdnet (kernels and digits)…');
Promise.all([resolveBuild('auto').then((b) => Promise.all([kernelsFor(b), crossOriginIsolated ? preloadKernels(b, true) : null])), loadDigits()]).then(
  async () => {
    const offline = await keepForOffline(fetchedAssets());
    setState('idle', `Ready: choose the settings and press Start${offline ? ' (the page works offline from here)' : ''}.`);
    if (query.get('start') === '1') void start();
  },
  (e: Error) => setState('error', `cannot load simdnet's files: ${e.message}`),
);
