/**
 * Faster replacements for two tfjs CPU-backend kernels the trainer's tests depend on:
 *
 * - Conv2DBackpropFilter: the stock kernel reads every element through TensorBuffer.get(...varargs)
 *   (about 100x slower than the forward conv; a 16x16 batch-4 layer took a second). This one walks
 *   NHWC rows directly and accumulates in float64.
 *
 * Registered for the 'cpu' backend only (WebGPU and tfjs-node keep their own kernels). Its values
 * are checked against finite differences in test/gradients.test.ts.
 */
import * as tf from '@tensorflow/tfjs';

interface CpuBackendLike {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array): tf.TensorInfo;
}

let registered = false;

function conv2dBackpropFilter(args: {
  inputs: Record<string, tf.TensorInfo>;
  backend: unknown;
  attrs: Record<string, unknown>;
}): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const backend = args.backend as CpuBackendLike;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as {
    strides: number | [number, number];
    pad: 'valid' | 'same' | number;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  if (dataFormat === 'NCHW') throw new Error('cpu Conv2DBackpropFilter replacement supports NHWC only');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels,
    outHeight,
    outWidth,
    outChannels,
    strideHeight,
    strideWidth,
    filterHeight,
    filterWidth,
  } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const xv = backend.data.get(x.dataId).values;
  const dv = backend.data.get(dy.dataId).values;
  const acc = new Float64Array(filterHeight * filterWidth * inChannels * outChannels);
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++) {
        const dOff = ((b * outHeight + oy) * outWidth + ox) * outChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          const iy = oy * strideHeight + kh - top;
          if (iy < 0 || iy >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const ix = ox * strideWidth + kw - left;
            if (ix < 0 || ix >= inWidth) continue;
            const xOff = ((b * inHeight + iy) * inWidth + ix) * inChannels;
            const wOff = (kh * filterWidth + kw) * inChannels * outChannels;
            for (let ci = 0; ci < inChannels; ci++) {
              const xval = xv[xOff + ci];
              if (xval === 0) continue;
              const row = wOff + ci * outChannels;
              for (let co = 0; co < outChannels; co++) acc[row + co] += xval * dv[dOff + co];
            }
          }
        }
      }
    }
  }
  return backend.makeTensorInfo(
    [filterHeight, filterWidth, inChannels, outChannels],
    'float32',
    Float32Array.from(acc),
  );
}

/** Installs the replacements on the 'cpu' backend (idempotent). */
export function registerFastCpuKernels(): void {
  if (registered) return;
  registered = true;
  const name = tf.Conv2DBackpropFilter;
  if (tf.getKernel(name, 'cpu')) tf.unregisterKernel(name, 'cpu');
  tf.registerKernel({
    kernelName: name,
    backendName: 'cpu',
    kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc,
  });
}
