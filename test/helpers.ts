import { Kernels } from '../src/kernels.js';

/** Copies values into freshly planned kernel memory; returns the byte offset. */
export function put(k: Kernels, values: ArrayLike<number>): number {
  const p = k.alloc(values.length);
  k.write(p, values);
  return p;
}

export function putI32(k: Kernels, values: ArrayLike<number>): number {
  const p = k.alloc(values.length);
  k.i32.set(values, p >> 2);
  return p;
}

/** Reads n floats at ptr as float64. */
export function get(k: Kernels, ptr: number, n: number): Float64Array {
  return Float64Array.from(k.read(ptr, n));
}
