// Trains a short round of model 4 and prints its test accuracy per epoch.
//   deno run --allow-read --allow-env --allow-sys examples/deno.ts [epochs] [threads]
import { trainRound } from 'simdnet';

const epochs = Number(Deno.args[0] ?? 3), threads = Number(Deno.args[1] ?? 1);
const round = await trainRound({ model: 4, seed: 1, epochs, threads, onEpoch: (e) => console.log(`epoch ${e.epoch}: test accuracy ${(100 * e.testAccuracy).toFixed(1)} %`) });
console.log(`final ${(100 * round.finalTestAccuracy).toFixed(1)} % in ${round.seconds.toFixed(1)} s (${round.build} build)`);
