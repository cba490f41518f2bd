/**
 * The generator outputs a manifest names and the shapes it implies for them. Kept apart from manifest.ts
 * (ajv and the schema) so that a render thread, which slices rows by these lengths, loads no validator.
 */

/** The manifest's `image` block: the image output, its side and its value range. */
export interface ImageOutput {
  output: string;
  size: number;
  range: [number, number];
}

/** The manifest's `attention` block: the attention map output, its query grid and its key grid. */
export interface AttentionOutput {
  output: string;
  grid: [number, number];
  key_grid: [number, number];
}

/** The part of a manifest that names the generator's outputs (all a render thread gets of it). */
export interface ManifestOutputs {
  image: ImageOutput;
  attention?: AttentionOutput;
}

export type OutputRole = 'image' | 'attention';

/** An output the manifest names: what it is, its graph name, and its dims after the batch axis. */
export interface ExpectedOutput {
  role: OutputRole;
  name: string;
  dims: number[];
}

/** The outputs the manifest implies, image first: image [3, size, size], attention [queries, keys]. */
export function expectedOutputShapes(m: ManifestOutputs): ExpectedOutput[] {
  const outputs: ExpectedOutput[] = [{ role: 'image', name: m.image.output, dims: [3, m.image.size, m.image.size] }];
  if (m.attention) {
    const [gh, gw] = m.attention.grid;
    const [kh, kw] = m.attention.key_grid;
    outputs.push({ role: 'attention', name: m.attention.output, dims: [gh * gw, kh * kw] });
  }
  return outputs;
}

/** Elements in one batch row of each output; attention is absent when the manifest names none. */
export interface OutputRowLengths {
  image: number;
  attention?: number;
}

/** How many elements each generated row takes in an output: what a batch's outputs are sliced by. */
export function outputRowLengths(m: ManifestOutputs): OutputRowLengths {
  const rowLength = (o: ExpectedOutput) => o.dims.reduce((n, d) => n * d, 1);
  const [image, attention] = expectedOutputShapes(m);
  return attention ? { image: rowLength(image), attention: rowLength(attention) } : { image: rowLength(image) };
}
