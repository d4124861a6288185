// Every model against PyTorch 1.13's numbers (test/fixtures/golden, see its README):
// loss, logits, trunk outputs, every gradient, batch-norm statistics, one Adam
// step, evaluation mode, and the loss over five Adam steps.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadKernels, Build } from '../src/kernels.js';
import { PairModel, ModelId } from '../src/models.js';
import { relErr } from './reference.js';

interface Tensor { shape: number[]; values: number[] }
interface Named { name: string; shape: number[]; values: number[] }
interface Golden {
  input: Tensor; target: number[]; classes: [number, number][]; batch: number;
  params: Named[]; grads: Named[]; buffers_initial: Named[]; buffers_after_forward: Named[];
  params_after_step: Named[]; pre_bn_bias_params?: string[];
  forward_train: Record<string, Tensor>;
  after_step: { eval: Record<string, Tensor>; train: Record<string, Tensor>; buffers_after_train_forward: Named[] };
  loss_trajectory: { values: number[] };
}

const goldenDir = new URL('./fixtures/golden/', import.meta.url);
const load = (m: ModelId): Golden => JSON.parse(readFileSync(new URL(`golden_model${m}.json`, goldenDir), 'utf8'));
const floats = (l: Named[]) => l.filter((b) => Array.isArray(b.values));

// float32 kernels against float32 PyTorch: differences come from summation order.
const TOL = 2e-5;

describe.each([1, 2, 3, 4] as ModelId[])('model %i against PyTorch', (id) => {
  const g = load(id);
  const preBn = new Set(g.pre_bn_bias_params ?? []);

  it.each(['simd', 'scalar'] as Build[])('%s build: loss, logits, gradients, Adam, eval and 5 steps', async (build) => {
    const k = await loadKernels(build);
    const B = g.batch;
    const model = new PairModel(k, id, B, 0);
    const net = model.net;
    expect(net.params.map((p) => p.name).sort()).toEqual(g.params.map((p) => p.name).sort());
    for (const p of g.params) {
      expect(net.find(p.name).shape).toEqual(p.shape);
      net.write(p.name, p.values);
    }
    for (const b of floats(g.buffers_initial)) net.write(b.name, b.values);

    model.setBatch(g.input.values, g.target, g.classes.flat());
    const parts = model.forwardBackward(B);
    const ft = g.forward_train;
    expect(parts.loss).toBeCloseTo(ft.loss.values[0], 5);
    expect(parts.bce).toBeCloseTo(ft.bce.values[0], 5);
    expect(relErr(k.read(model.logits.ptr, B), ft.logits.values)).toBeLessThan(TOL);
    const [t0, t1] = model.trunkOutputs(B);
    expect(relErr(t0, ft.trunk_out_digit0.values)).toBeLessThan(TOL);
    expect(relErr(t1, ft.trunk_out_digit1.values)).toBeLessThan(TOL);
    if (id >= 3) {
      expect(parts.ce0).toBeCloseTo(ft.ce_digit0.values[0], 5);
      expect(parts.ce1).toBeCloseTo(ft.ce_digit1.values[0], 5);
      const dl = k.read(model.digitLogits!.ptr, 2 * B * 10);
      expect(relErr(dl.subarray(0, B * 10), ft.digit_logits_digit0.values)).toBeLessThan(TOL);
      expect(relErr(dl.subarray(B * 10), ft.digit_logits_digit1.values)).toBeLessThan(TOL);
    }
    for (const gr of g.grads) {
      const got = net.readGrad(gr.name);
      if (preBn.has(gr.name)) {
        for (const v of got) expect(Math.abs(v)).toBeLessThan(1e-6); // true gradient is zero
      } else {
        expect(relErr(got, gr.values), gr.name).toBeLessThan(1e-4);
      }
    }
    for (const b of floats(g.buffers_after_forward)) expect(relErr(net.read(b.name), b.values), b.name).toBeLessThan(TOL);

    // Adam, checked on PyTorch's own gradients: on a first step each entry moves by
    // about lr·g/(|g| + eps), so gradient noise near zero (the pre-BN biases) would
    // otherwise decide the sign. Our gradients drive the five-step trajectory below.
    for (const gr of g.grads) k.write((net.find(gr.name) as { grad: number }).grad, gr.values);
    net.adamStep();
    for (const p of g.params_after_step) {
      const got = net.read(p.name);
      let d = 0;
      for (let i = 0; i < got.length; i++) d = Math.max(d, Math.abs(got[i] - p.values[i]));
      expect(d, p.name).toBeLessThan(1e-6); // a thousandth of a step
    }

    model.forward(B, false);
    expect(relErr(k.read(model.logits.ptr, B), g.after_step.eval.logits.values)).toBeLessThan(1e-4);
    model.forward(B, true);
    expect(relErr(k.read(model.logits.ptr, B), g.after_step.train.logits.values)).toBeLessThan(1e-4);
    for (const b of floats(g.after_step.buffers_after_train_forward)) expect(relErr(net.read(b.name), b.values), b.name).toBeLessThan(1e-4);

    const traj = [parts.loss];
    for (let s = 0; s < 4; s++) traj.push(model.trainStep(B).loss);
    traj.forEach((l, i) => expect(l).toBeCloseTo(g.loss_trajectory.values[i], 4));
  });
});
