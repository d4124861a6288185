// LeNet-5 on the `mnist` package's 28×28 digits (a seeded 70/30 split), with
// the model API: `node examples/lenet.mjs [epochs] [training samples]`.
import { sequential, layers as nn, loadMnist } from 'simdnet';

const epochs = Number(process.argv[2] ?? 12);
const { train, test } = await loadMnist(0);
const n = Math.min(Number(process.argv[3] ?? train.n), train.n);

const model = sequential([
  nn.conv2d(6, 5, { padding: 'same', name: 'conv1' }), nn.relu(), nn.maxPool2d(2),
  nn.conv2d(16, 5, { name: 'conv2' }), nn.relu(), nn.maxPool2d(2),
  nn.flatten(),
  nn.dense(120, { name: 'fc1' }), nn.relu(),
  nn.dense(84, { name: 'fc2' }), nn.relu(),
  nn.dense(10, { name: 'fc3' }),
], { input: [1, 28, 28], name: 'lenet5' });
console.log(model.summary());

await model.compile({ loss: 'crossentropy', optimizer: { type: 'adam', lr: 1e-3 }, batchSize: 64, seed: 0 });
const start = performance.now();
await model.fit(train.images.subarray(0, n * 784), train.labels.subarray(0, n), {
  epochs, validationData: [test.images, test.labels],
  onEpoch: (e) => console.log(`epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, train accuracy ${(100 * e.accuracy[0]).toFixed(2)} %, test accuracy ${(100 * e.val.accuracy[0]).toFixed(2)} %`),
});
const { accuracy } = model.evaluate(test.images, test.labels);
console.log(`test accuracy ${(100 * accuracy[0]).toFixed(2)} % (${test.n} digits) after ${epochs} epochs on ${n} digits, ${((performance.now() - start) / 1000).toFixed(1)} s`);
