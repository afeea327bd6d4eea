/**
 * The serve section's figures as markdown and as target checks (issue 13): at least 1.5x the
 * PyTorch peer's images/s at 64 clients, and a p99 no worse than the peer's at one client.
 * Every figure is the median over repetitions of a measured run.
 */
import { median, type BenchReport, type TargetCheck } from '../core/report.js';
import { ratio as x, table } from '../core/format.js';
import type { ServeRow } from './types.js';

const f1 = (v: number): string => (Number.isFinite(v) ? (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1)) : 'n/a');

const PEER = 'PyTorch';
const BATCHING = 'tlcv batching';

function find(rows: ServeRow[], model: string, clients: number, side: string): ServeRow | undefined {
  return rows.find((r) => r.model === model && r.clients === clients && r.side === side);
}

/** The serve tables (none when the section did not run). */
export function serveMarkdown(r: BenchReport): string[] {
  const s = r.serve;
  if (!s) return [];
  const parts: string[] = [];
  if (s.rows.length > 0) {
    const rows = s.rows.map((row) => {
      const peer = find(s.rows, row.model, row.clients, PEER);
      const ips = median(row.imagesPerSec);
      return [
        `${row.model} ${row.inputSize.join('x')}`,
        String(row.clients),
        row.side,
        f1(ips),
        f1(median(row.p50Ms)),
        f1(median(row.p99Ms)),
        row.side === PEER || !peer ? '' : x(ips / median(peer.imagesPerSec)),
        String(row.errors),
      ];
    });
    parts.push(
      `HTTP serving: POST /predict with one PNG (1.5x the input size) per request, closed-loop clients on loopback; ${r.machine.threads} thread(s) per server, medians over repetitions\n\n` +
        table(['model', 'clients', 'server', 'images/s', 'p50 ms', 'p99 ms', 'images/s vs PyTorch', 'errors'], rows),
    );
  }
  if (s.engines.length > 0) {
    const rows = s.engines.map((e) => [`${e.model} ${e.inputSize.join('x')}`, String(e.batch), f1(median(e.tlcv)), f1(median(e.onnxruntime)), x(median(e.tlcv) / median(e.onnxruntime))]);
    parts.push(`Inference engines, fp32, images/s (onnxruntime-node ${s.onnxruntimeVersion ?? '?'} on the exported ONNX file)\n\n${table(['model', 'batch', 'tlcv (libtorch)', 'onnxruntime-node', 'tlcv / onnxruntime'], rows)}`);
  }
  return parts.length > 0 ? [parts.join('\n\n')] : [];
}

/** Issue 13's serving targets, for each served model with the needed rows. */
export function serveTargets(r: BenchReport): TargetCheck[] {
  const rows = r.serve?.rows ?? [];
  const out: TargetCheck[] = [];
  for (const model of [...new Set(rows.map((row) => row.model))]) {
    const many = Math.max(...rows.filter((row) => row.model === model).map((row) => row.clients));
    const tlcv = find(rows, model, many, BATCHING);
    const peer = find(rows, model, many, PEER);
    if (tlcv && peer) {
      const ratio = median(tlcv.imagesPerSec) / median(peer.imagesPerSec);
      out.push({ name: `serve: ${model}, images/s at ${many} clients, tlcv / PyTorch`, target: '>= 1.5x', measured: x(ratio), met: ratio >= 1.5 });
    }
    const one = find(rows, model, 1, BATCHING);
    const peerOne = find(rows, model, 1, PEER);
    if (one && peerOne) {
      const [a, b] = [median(one.p99Ms), median(peerOne.p99Ms)];
      out.push({ name: `serve: ${model}, p99 latency at 1 client, tlcv vs PyTorch`, target: 'no worse', measured: `${f1(a)} ms vs ${f1(b)} ms`, met: a <= b });
    }
  }
  return out;
}
