/**
 * Test fixture: a real ONNX generator (written with the contract's ONNX writer) whose image output keeps
 * at most `keepRows` rows whatever the batch, as a graph with a wrong Slice or a batch axis frozen at
 * export would. Inputs and outputs follow the manifest contract (z float32 [batch, 16], y int64 [batch],
 * image float32 [rows, 3, 8, 8] in [-1, 1]), so every load-time check but the output's row count passes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelManifest } from '@sagan-serve/model-contract/manifest';
import { encodeModel, floatTensor, int64Tensor, makeNode, valueInfo } from '@sagan-serve/model-contract/onnx-model';

const Z_DIM = 16;
const SIZE = 8;

export async function writeRowSlicingModel(
  dir: string,
  name: string,
  keepRows: number,
  batching?: ModelManifest['batching'],
): Promise<void> {
  const pixels = 3 * SIZE * SIZE;
  const weights = Float32Array.from({ length: Z_DIM * pixels }, (_, i) => Math.sin(i * 0.37) * 0.5);
  const bytes = encodeModel({
    graphName: name,
    opset: 17,
    inputs: [valueInfo('z', 'float32', ['batch', Z_DIM]), valueInfo('y', 'int64', ['batch'])],
    outputs: [valueInfo('image', 'float32', ['rows', 3, SIZE, SIZE])],
    initializers: [
      floatTensor('w', [Z_DIM, pixels], weights),
      int64Tensor('class_axis', [1], [1]),
      int64Tensor('nchw', [4], [-1, 3, SIZE, SIZE]),
      int64Tensor('starts', [1], [0]),
      int64Tensor('ends', [1], [keepRows]),
      int64Tensor('batch_axis', [1], [0]),
    ],
    nodes: [
      // The class shifts the latent, so that y is a real input of the graph.
      makeNode('Cast', ['y'], ['y_float'], { to: 1 }),
      makeNode('Unsqueeze', ['y_float', 'class_axis'], ['y_column']),
      makeNode('Add', ['z', 'y_column'], ['zy']),
      makeNode('MatMul', ['zy', 'w'], ['flat']),
      makeNode('Tanh', ['flat'], ['bounded']),
      makeNode('Reshape', ['bounded', 'nchw'], ['all_rows']),
      makeNode('Slice', ['all_rows', 'starts', 'ends', 'batch_axis'], ['image']),
    ],
  });
  const manifest: ModelManifest = {
    name,
    version: '1',
    file: 'generator.onnx',
    classes: ['a', 'b'],
    latent: { input: 'z', dim: Z_DIM },
    class_input: 'y',
    image: { output: 'image', size: SIZE, range: [-1, 1] },
    ...(batching ? { batching } : {}),
  };
  const modelDir = path.join(dir, name);
  await mkdir(modelDir, { recursive: true });
  await writeFile(path.join(modelDir, 'generator.onnx'), bytes);
  await writeFile(path.join(modelDir, 'model.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}
