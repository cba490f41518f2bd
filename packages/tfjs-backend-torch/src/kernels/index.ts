/** Every native kernel of the torch backend. */
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { addNConfig } from './AddN.js';
import { avgPoolConfig } from './AvgPool.js';
import { avgPoolGradConfig } from './AvgPoolGrad.js';
import { batchMatMulConfig } from './BatchMatMul.js';
import { castConfig } from './Cast.js';
import { concatConfig } from './Concat.js';
import { conditionalBatchNormConfig, conditionalBatchNormGradConfig } from './ConditionalBatchNorm.js';
import { conv2DBackpropFilterConfig } from './Conv2DBackpropFilter.js';
import { conv2DBackpropInputConfig } from './Conv2DBackpropInput.js';
import { binaryKernels } from './elementwise-binary.js';
import { unaryKernels } from './elementwise-unary.js';
import { fillConfig } from './Fill.js';
import { fusedAdamConfig } from './FusedAdam.js';
import { conv2DConfig, fusedConv2DConfig } from './FusedConv2D.js';
import { fusedMatMulConfig } from './FusedMatMul.js';
import { gatherV2Config } from './GatherV2.js';
import { maxPoolConfig } from './MaxPool.js';
import { maxPoolGradConfig } from './MaxPoolGrad.js';
import { packConfig } from './Pack.js';
import { padV2Config } from './PadV2.js';
import { argKernels, reductionKernels } from './reductions.js';
import { reluGradConfig } from './ReluGrad.js';
import { resizeNearestNeighborConfig } from './ResizeNearestNeighbor.js';
import { selectConfig } from './Select.js';
import { sliceConfig } from './Slice.js';
import { softmaxConfig } from './Softmax.js';
import { softmaxAttentionConfig, softmaxAttentionGradConfig } from './SoftmaxAttention.js';
import { softmaxGradConfig } from './SoftmaxGrad.js';
import { splitVConfig } from './SplitV.js';
import { tileConfig } from './Tile.js';
import { transposeConfig } from './Transpose.js';

export const nativeKernelConfigs: KernelConfig[] = [
  ...binaryKernels,
  ...unaryKernels,
  ...reductionKernels,
  ...argKernels,
  castConfig,
  batchMatMulConfig,
  fusedMatMulConfig,
  conv2DConfig,
  fusedConv2DConfig,
  conv2DBackpropInputConfig,
  conv2DBackpropFilterConfig,
  avgPoolConfig,
  avgPoolGradConfig,
  maxPoolConfig,
  maxPoolGradConfig,
  softmaxConfig,
  softmaxGradConfig,
  reluGradConfig,
  fusedAdamConfig,
  gatherV2Config,
  concatConfig,
  transposeConfig,
  sliceConfig,
  padV2Config,
  tileConfig,
  resizeNearestNeighborConfig,
  selectConfig,
  addNConfig,
  fillConfig,
  softmaxAttentionConfig,
  softmaxAttentionGradConfig,
  conditionalBatchNormConfig,
  conditionalBatchNormGradConfig,
  splitVConfig,
  packConfig,
];
