/** What fit returns, and the files it writes beside the model: fit.json and report.md (the leaderboard). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Model } from '../model.js';
import { leaderboardMarkdown, type LeaderboardEntry } from './ladder.js';
import type { FitValidation } from './validation.js';
import type { CalibrationRecord } from '../../metrics/index.js';

export interface FitOutcome {
  /** The kept model (null when no rung ran to its end). */
  model: Model | null;
  kept: LeaderboardEntry | null;
  board: LeaderboardEntry[];
  why: string;
  validation: FitValidation;
  seconds: number;
  interrupted: boolean;
  /** The kept model's accuracy on its validation split without and with test-time augmentation, and whether it uses it. */
  tta: { without: number; with: number; used: boolean } | null;
  /**
   * The kept model was trained again on every image with the chosen recipe, so `validation`'s
   * split is inside its training data (its calibration was fitted before, on the model trained
   * without it); false: the kept model is the one validated (fold 0's with k-fold).
   */
  refit: boolean;
  /** Temperature and unknown threshold fitted on the kept model's validation split (null: not fitted, and why was logged). */
  calibration: CalibrationRecord | null;
}

/** fit.json and report.md beside the kept model (an ordinary model folder). */
export function writeFitFolder(out: string, data: string, r: FitOutcome, budget: number, holdout: number): void {
  mkdirSync(out, { recursive: true });
  if (r.model !== null && r.kept !== null) {
    r.model.save(out, { provenance: { command: 'fit', data, strategy: r.kept.strategy, backbone: r.kept.backbone, validation: r.validation } });
  }
  const json = { data, budgetSeconds: budget, seconds: Number(r.seconds.toFixed(2)), interrupted: r.interrupted, candidates: r.why, validation: r.validation, kept: r.kept, refit: r.refit, tta: r.tta, calibration: r.calibration, leaderboard: r.board };
  writeFileSync(join(out, 'fit.json'), `${JSON.stringify(json, null, 2)}\n`);
  const kept = r.kept === null ? 'No rung finished within the budget: no model was written.' : `Kept: **${r.kept.strategy}** on ${r.kept.backbone}, validation accuracy ${(r.kept.score! * 100).toFixed(1)}%.`;
  const how = r.validation.kind === 'kfold' ? `${r.validation.folds}-fold stratified cross-validation (${r.refit ? 'the kept model trained again on every image with the chosen recipe' : "the kept model is fold 0's"})` : `a stratified ${holdout * 100}% hold-out`;
  const lines = [
    `# tlcv fit on ${data}`,
    '',
    `Budget ${budget}s, took ${r.seconds.toFixed(1)}s${r.interrupted ? ' (interrupted: the best so far was kept)' : ''}. Candidates: ${r.why}.`,
    `Validation: ${how}, seed ${r.validation.seed}.`,
    '',
    kept,
    ...(r.calibration === null
      ? []
      : [`Calibrated on its validation split: temperature ${r.calibration.temperature.toFixed(3)}, ECE ${(r.calibration.eceBefore * 100).toFixed(2)}% -> ${(r.calibration.eceAfter * 100).toFixed(2)}%; predict and serve answer unknown below ${r.calibration.threshold.toFixed(4)} (${(r.calibration.targetRejection * 100).toFixed(0)}% of known images, the target).`]),
    ...(r.tta === null ? [] : [`Test-time augmentation (mirror) on its validation split: ${(r.tta.with * 100).toFixed(1)}% against ${(r.tta.without * 100).toFixed(1)}%: ${r.tta.used ? 'used by evaluate and predict' : 'not used'}.`]),
    '',
    leaderboardMarkdown(r.board, r.kept ?? undefined),
    '',
  ];
  writeFileSync(join(out, 'report.md'), lines.join('\n'));
}
