/** Evaluation on a target domain: accuracy first, then what users expect next to it. */
import { F, inferenceMode, tidy } from '../tensor/index.js';
import type { ClassifierModel } from '../models/index.js';
import { MetricsAccumulator, type EvaluationResult } from '../metrics/index.js';
import { withPlan, type ExecutionPlan } from './precision.js';
import type { BatchSource } from './trainer.js';

export interface EvaluateOptions {
  plan: ExecutionPlan;
  classNames: string[];
  keepWorst?: number;
}

export function evaluateModel(model: ClassifierModel, source: BatchSource, o: EvaluateOptions): EvaluationResult {
  const acc = new MetricsAccumulator(model.numClasses, { topK: 5, keepWorst: o.keepWorst ?? 16 });
  model.eval();
  source.setEpoch(0);
  let offset = 0;
  let lossSum = 0;
  inferenceMode(() => {
    for (const batch of source) {
      const n = batch.y.size(0);
      const [probs, targets, loss] = tidy(() => {
        const x = o.plan.channelsLast && batch.x.ndim === 4 ? batch.x.contiguous('channelsLast') : batch.x;
        const logits = withPlan(o.plan, () => model.forward(x)).float();
        const l = F.crossEntropy(logits, batch.y, { reduction: 'sum' }).item();
        return [F.softmax(logits, 1).toTypedArray() as Float32Array, Int32Array.from(batch.y.toFlatArray()), l] as const;
      });
      lossSum += loss;
      acc.add(probs, targets, Array.from({ length: n }, (_, i) => offset + i));
      offset += n;
      batch.x.dispose();
      batch.y.dispose();
    }
  });
  const result = acc.result(o.classNames);
  result.loss = lossSum / Math.max(offset, 1);
  return result;
}
