// Scratch memory for packing, owned by the TypeScript planner: it reserves the
// region once and tells the module where it is, so no kernel ever allocates.

// Each instance (the main one, and each helper thread's: src/team.ts) has a
// workspace of its own, while static data is shared by all threads: so every
// scratch buffer a split kernel touches lives here, never in memory.data.
export let workspace: usize = 0;
export let workspaceBytes: usize = 0;
/** The matrix multiply's 2×16 edge tile, after its packing buffers. */
export let edgeTile: usize = 0;
/** Two sums of the batch norms' backward (a channel's Σdy and Σdy·x̂). */
export let bnSums: usize = 0;
/** Winograd's transform staging: 36 values (a vector or a float each) per buffer. */
export let stageA: usize = 0;
export let stageB: usize = 0;
export let stageC: usize = 0;

const EDGE_BYTES: usize = 2 * 16 * 4;
const SUMS_BYTES: usize = 16;
const STAGE_BYTES: usize = 36 * 16;

/** Bytes of scratch the kernels need: the matrix multiply's packing buffers and edge tile, the batch norms' sums, Winograd's staging. */
export function workspace_bytes_needed(): usize {
  return (<usize>(WS_A_FLOATS + WS_B_FLOATS) << 2) + EDGE_BYTES + SUMS_BYTES + 3 * STAGE_BYTES;
}

export function set_workspace(ptr: usize, bytes: usize): void {
  workspace = ptr;
  workspaceBytes = bytes;
  edgeTile = ptr + (<usize>(WS_A_FLOATS + WS_B_FLOATS) << 2);
  bnSums = edgeTile + EDGE_BYTES;
  stageA = bnSums + SUMS_BYTES;
  stageB = stageA + STAGE_BYTES;
  stageC = stageB + STAGE_BYTES;
}

/** First free byte after the module's static data: the planner starts here. */
export function heap_base(): usize {
  return __heap_base;
}

// Blocking of the matrix multiply (see gemm.ts). MC even, NC a multiple of 16.
export const KC: i32 = 320;
export const MC: i32 = 128;
export const NC: i32 = 512;
export const WS_A_FLOATS: i32 = MC * KC;
export const WS_B_FLOATS: i32 = KC * NC;
