/**
 * The data section as markdown, and issue 11's targets: decode throughput and end-to-end training
 * against torchvision, streaming against pre-decoded, and streaming memory.
 */
import type { BenchReport, TargetCheck } from '../core/report.js';
import { mib, num, ratio, ratio3, table } from '../core/format.js';

export function dataMarkdown(r: BenchReport): string[] {
  const d = r.data;
  if (!d) return [];
  const out: string[] = [];
  if (d.decode) {
    const dc = d.decode;
    out.push(
      `Photo decoding: ${d.photo}; decode + RandomResizedCrop(${d.size}) + flip + normalise, batch ${d.batch}, images/s (median of ${dc.tlcv.samples.length})\n\n` +
        table(['tlcv (streaming loader)', `torchvision ImageFolder + DataLoader(num_workers=${dc.peerWorkers})`, 'tlcv / torchvision'], [[num(dc.tlcv.median), num(dc.peer.median), ratio(dc.ratio)]]),
    );
  }
  if (d.train) {
    const t = d.train;
    out.push(
      `resnet18 trained end to end on the same folder at ${d.size} px (random init, 10 classes, AdamW, batch ${t.batch}, ${t.images} images timed after one step), images/s (median of ${t.stream.samples.length}); ` +
        `tlcv: the Learner, plan ${t.tlcvPlan}, streaming with no image cache (every photo decoded as it trains) and on the same photos decoded into memory first; torchvision: fp32, its default\n\n` +
        table(
          ['tlcv streaming', 'tlcv pre-decoded', `torchvision ImageFolder + DataLoader(num_workers=${t.peerWorkers})`, 'tlcv / torchvision', 'streaming / pre-decoded'],
          [[num(t.stream.median), num(t.memory.median), num(t.peer.median), ratio(t.vsPeer), ratio(t.vsMemory)]],
        ),
    );
  }
  if (d.memory.length > 0) {
    const rows = d.memory.map((m) => [String(m.photos), m.cacheImages, mib(m.peakRss), m.rssPerEpoch.map(mib).join(', '), m.cacheLimit === null ? 'none' : `${mib(m.cacheBytes)} of ${Number.isFinite(m.cacheLimit) ? mib(m.cacheLimit) : 'unlimited'}`, `${m.seconds.toFixed(0)} s`]);
    out.push(`Streaming photo epochs in a fresh tlcv process (decode and batch only, no training)\n\n${table(['photos', '--cache-images', 'peak RSS', 'RSS per epoch', 'cache', 'time'], rows)}`);
  }
  return [out.join('\n\n')];
}

/** Issue 11's data targets: decode throughput against torchvision, and streaming memory. */
export function dataTargets(r: BenchReport): TargetCheck[] {
  const d = r.data;
  if (!d) return [];
  const out: TargetCheck[] = [];
  if (d.decode) out.push({ name: `11. photo decode + RandomResizedCrop(${d.size}) + flip, tlcv / torchvision`, target: '>= 1.5x', measured: ratio3(d.decode.ratio), met: d.decode.ratio >= 1.5 });
  if (d.train) {
    out.push({ name: `11. resnet18 ${d.size} px training on photos end to end, tlcv / torchvision`, target: '>= 2x', measured: ratio3(d.train.vsPeer), met: d.train.vsPeer >= 2 });
    out.push({ name: `11. resnet18 ${d.size} px training on photos, streaming / pre-decoded in memory`, target: '>= 0.9x', measured: ratio3(d.train.vsMemory), met: d.train.vsMemory >= 0.9 });
  }
  const off = d.memory.filter((m) => m.cacheImages === 'off').sort((a, b) => a.photos - b.photos);
  const gib = (b: number): string => `${(b / 2 ** 30).toFixed(2)} GiB`;
  for (const m of off) out.push({ name: `11. peak RSS, ${m.photos} photos, --cache-images off`, target: '< 1.5 GB', measured: gib(m.peakRss), met: m.peakRss < 1.5e9 });
  if (off.length >= 2) {
    const g = off[off.length - 1]!.peakRss / off[0]!.peakRss - 1;
    out.push({ name: `11. peak RSS growth, ${off[0]!.photos} to ${off[off.length - 1]!.photos} photos`, target: '< 10%', measured: `${(g * 100).toFixed(1)}%`, met: g < 0.1 });
  }
  for (const m of d.memory.filter((mm) => mm.cacheImages === 'auto')) {
    const limit = m.cacheLimit ?? 0;
    out.push({ name: `11. --cache-images auto, ${m.photos} photos: cache within its budget`, target: `<= ${gib(limit)}`, measured: `${gib(m.cacheBytes)} cached, peak RSS ${gib(m.peakRss)}`, met: m.cacheBytes <= limit });
  }
  return out;
}
