// Scratch memory for packing, owned by the TypeScript planner: it reserves the
// region once and tells the module where it is, so no kernel ever allocates.

export let workspace: usize = 0;
export let workspaceBytes: usize = 0;

/** Bytes of scratch the kernels need (packing buffers of the matrix multiply). */
export function workspace_bytes_needed(): usize {
  return (WS_A_FLOATS + WS_B_FLOATS + 64) << 2;
}

export function set_workspace(ptr: usize, bytes: usize): void {
  workspace = ptr;
  workspaceBytes = bytes;
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
