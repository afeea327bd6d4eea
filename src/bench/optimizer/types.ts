/** The optimizer section's settings, job and figures: AdamW's step alone, timed without forward or backward. */
import type { Figure } from '../core/report.js';
import type { Shape3, Timing } from '../core/jobs.js';

declare module '../core/config.js' {
  interface BenchConfig {
    /** The optimizer step alone (issue 16). */
    optimizer?: { model: string; inputSize: Shape3; numClasses: number; timing: Timing } | null;
  }
}
declare module '../core/report.js' {
  interface BenchReport {
    optimizer?: OptimizerFigures | null;
  }
}

/** One optimizer step over a model's parameters with fixed random gradients, timed alone (issue 16). */
export interface OptimStepJob extends Timing {
  kind: 'optimStep';
  model: string;
  inputSize: Shape3;
  numClasses: number;
  /** AdamW (lr 1e-3, weight decay 1e-4) as tlcv runs it ('fused', 'per-op') or PyTorch ('foreach', 'single'). */
  variant: string;
}

export interface OptimStepResult {
  steps: number;
  seconds: number;
  params: number;
}

/** The optimizer step alone: milliseconds per AdamW step over every parameter of the model. */
export interface OptimizerFigures {
  model: string;
  params: number;
  /** tlcv: fused, per-op; PyTorch: foreach, single (1.13's default on CPU). */
  tlcv: Record<string, Figure>;
  peer: Record<string, Figure>;
  /** PyTorch foreach ms / tlcv fused ms. */
  speedupVsForeach: number;
}
