/**
 * The largest image each encoding can hold, checked against a request's output before any inference
 * runs: past it the encoder fails only after the work is done, and the client would get an internal
 * error for a request it can fix (a smaller `size`, fewer tiles, another format).
 */
import { IMAGE_FORMATS, type ImageFormat } from '@sagan-serve/model-contract/image';
import { serveError } from '../errors.js';
import { outputDimensions, type LayoutSpec } from './output-dimensions.js';
import type { RenderModel, RenderSpec } from './render-request.js';

/**
 * Pixels per side: WebP's bitstream stores 14-bit dimensions; libjpeg(-turbo) refuses sides over
 * JPEG_MAX_DIMENSION; PNG's header holds 31-bit ones (the server's pixel caps keep PNG far below).
 */
export const MAX_SIDE_BY_FORMAT: Readonly<Record<ImageFormat, number>> = Object.freeze({
  png: 2 ** 31 - 1,
  jpeg: 65_500,
  webp: 16_383,
});

type FormatSpec = LayoutSpec & Pick<RenderSpec, 'format'>;

function fits(model: RenderModel, n: number, spec: LayoutSpec, format: ImageFormat): boolean {
  const { width, height } = outputDimensions(model, n, spec);
  return width <= MAX_SIDE_BY_FORMAT[format] && height <= MAX_SIDE_BY_FORMAT[format];
}

/** The largest `size` up to spec.size whose output fits spec.format; undefined when not even the model's own size does. */
export function largestFittingSize(model: RenderModel, n: number, spec: FormatSpec): number | undefined {
  const fitsAt = (size: number) => fits(model, n, { ...spec, size }, spec.format);
  let lo = model.image.size;
  let hi = spec.size;
  if (!fitsAt(lo)) return undefined;
  if (fitsAt(hi)) return hi;
  // Output sides grow with size, so the sizes that fit are one interval starting at the model's size.
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fitsAt(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** INVALID_ARGUMENT on `field` when the output of n rows rendered per `spec` is too large for its format, naming the limit and what would fit. */
export function checkFormatLimits(model: RenderModel, n: number, spec: FormatSpec, field: string): void {
  if (fits(model, n, spec, spec.format)) return;
  const { width, height } = outputDimensions(model, n, spec);
  const largest = largestFittingSize(model, n, spec);
  const otherFormats = IMAGE_FORMATS.filter((format) => format !== spec.format && fits(model, n, spec, format));
  const remedies = [
    ...(largest !== undefined ? [`size <= ${largest}`] : []),
    ...(otherFormats.length > 0 ? [`format ${otherFormats.join(' or ')}`] : []),
  ];
  throw serveError.INVALID_ARGUMENT(
    field,
    `a ${spec.format} image is at most ${MAX_SIDE_BY_FORMAT[spec.format]} px per side; this one would be ${width} x ${height} px`,
    remedies.length > 0 ? remedies.join(', or ') : `sides of at most ${MAX_SIDE_BY_FORMAT[spec.format]} px`,
  );
}
