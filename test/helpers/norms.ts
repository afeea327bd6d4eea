/** BatchNorm statistics that make a fold matter: random affine parameters and running statistics. */
import { BatchNorm2d, type Module } from '../../src/nn/index.js';
import { noGrad, rand, randn, tidy } from '../../src/tensor/index.js';

/** Every BatchNorm2d of the model gets random affine parameters and running statistics. */
export function randomiseNorms(model: Module): void {
  noGrad(() =>
    tidy(() => {
      for (const m of model.namedModules().values()) {
        if (!(m instanceof BatchNorm2d)) continue;
        const n = m.numFeatures;
        m.weight?.copy_(rand([n]).add(0.5));
        m.bias?.copy_(randn([n]).mul(0.2));
        m.runningMean!.copy_(randn([n]).mul(0.3));
        m.runningVar!.copy_(rand([n]).add(0.5));
      }
    }),
  );
}
