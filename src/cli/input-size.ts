import { TlcvError } from '../errors.js';

/** Parses --input-size HxW (or a single N for square). */
export function parseInputSize(v: string | undefined, fallback: [number, number]): [number, number] {
  if (v === undefined) return fallback;
  const m = /^(\d+)(?:x(\d+))?$/.exec(v);
  const h = m ? Number(m[1]) : NaN;
  const w = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(h > 0 && w > 0)) throw new TlcvError('ARGUMENT', `--input-size: expected HxW such as 32x32, got ${JSON.stringify(v)}`);
  return [h, w];
}
