/**
 * Every shared body by name: the page gets this module bundled (TfjsPage.open({shared: ...}))
 * and the runners call a body by name, in Node or in the page, with the same JSON argument.
 */
import {argumentErrors, opMemory, unusualInput} from './errors';
import {familyFilterGradients, familyGradients, familyParity, familyStandIns} from './family';
import {fusedDefaults, fusedKernelsRun, fusedNoTfjsPath, fusedVsTfjs} from './fused';
import {col2im, col2imSecondOrder, expandedFilterReference, gradConv1d, gradConv2d, gradConv2dNumerical, gradFused, gradFusedNumerical, gradTiled, gradTiledMemory} from './gradients';
import {parity} from './parity';

export const bodies = {
  parity, argumentErrors, opMemory, unusualInput, fusedVsTfjs, fusedNoTfjsPath, fusedKernelsRun,
  fusedDefaults, gradConv2d, gradConv2dNumerical, gradTiled, gradTiledMemory, gradConv1d, col2im,
  col2imSecondOrder, gradFused, gradFusedNumerical, expandedFilterReference, familyParity,
  familyGradients, familyStandIns, familyFilterGradients,
};

export type Bodies = typeof bodies;
export type BodyName = keyof Bodies;
