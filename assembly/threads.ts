// Kernels split over threads (src/team.ts): every thread calls the same export
// with its `part` of `parts`, and the work is divided where the pieces are
// independent (tiles, images, channels, column blocks of a product), so each
// sum is computed in the same order whatever the thread count. Phases that
// need another thread's results meet at `barrier`. The plain builds have no
// threads: parts is 1 there and the barrier compiles to nothing.

// The barrier's two counters (arrivals, generation) are static data: the one
// place every thread's instance sees at the same address. Each instance writes
// its data segments when it starts, so helpers start before any split call.
const barrierAt = memory.data(8, 8);
let barrierSpins: i32 = 0;
/** A thread waiting this long at the barrier gives up (traps): a partner has failed. src/team.ts reads it. */
export const BARRIER_SECONDS: i32 = 30;

/** How many polls a thread waiting at the barrier makes before it sleeps. */
export function set_barrier_spins(spins: i32): void {
  barrierSpins = spins;
}

/** First index of `part`'s share of [0, total), shares being multiples of `align`. */
// @ts-ignore: decorator
@inline
export function part_from(total: i32, align: i32, part: i32, parts: i32): i32 {
  const chunk = ((total + align - 1) / align + parts - 1) / parts * align;
  return min(total, part * chunk);
}

/** End (exclusive) of `part`'s share: part_from of the next part. */
// @ts-ignore: decorator
@inline
export function part_to(total: i32, align: i32, part: i32, parts: i32): i32 {
  return part_from(total, align, part + 1, parts);
}

/** Waits until all `parts` threads have arrived (a counter and a generation; spin, then sleep). */
export function barrier(parts: i32): void {
  if (parts <= 1) return;
  if (ASC_FEATURE_THREADS) {
    const gen = atomic.load<i32>(barrierAt, 4);
    if (atomic.add<i32>(barrierAt, 1) == parts - 1) {
      atomic.store<i32>(barrierAt, 0);
      atomic.add<i32>(barrierAt + 4, 1);
      atomic.notify(barrierAt + 4);
    } else {
      let spins = 0, waits = 0;
      while (atomic.load<i32>(barrierAt + 4) == gen) {
        if (++spins > barrierSpins) {
          // a second at a time; after BARRIER_SECONDS a partner has failed: trap, so the call fails instead of hanging
          atomic.wait<i32>(barrierAt + 4, gen, 1_000_000_000);
          if (++waits > BARRIER_SECONDS) unreachable();
        }
      }
    }
  }
}
