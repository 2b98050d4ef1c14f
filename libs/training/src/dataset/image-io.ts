import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { RgbImage } from './types';

export type ImageFormat = 'png' | 'jpeg';

/** Extensions the reader accepts (decoders exist for these). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png'];
/** Image extensions Ultralytics accepts that we cannot decode: reported, not silently ignored. */
export const UNSUPPORTED_IMAGE_EXTENSIONS: readonly string[] = [
  '.bmp',
  '.dng',
  '.mpo',
  '.tif',
  '.tiff',
  '.webp',
  '.pfm',
  '.heic',
];

/** Ultralytics rejects images smaller than this on either side. */
export const MIN_IMAGE_SIDE = 10;

export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47)
    return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

/**
 * Decodes a PNG or JPEG (format from the magic bytes, not the name) to 8-bit RGB; alpha is dropped
 * as OpenCV's imread does. Throws a plain Error with the reason on anything unreadable.
 */
export function decodeImage(bytes: Uint8Array): RgbImage {
  const format = sniffImageFormat(bytes);
  if (format === null) throw new Error('not a PNG or JPEG file');
  let img: RgbImage;
  if (format === 'png') {
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    const n = png.width * png.height;
    const rgba = png.data;
    const data = new Uint8Array(n * 3);
    for (let i = 0, j = 0; i < n; i++, j += 4) {
      data[i * 3] = rgba[j]!;
      data[i * 3 + 1] = rgba[j + 1]!;
      data[i * 3 + 2] = rgba[j + 2]!;
    }
    img = { width: png.width, height: png.height, data };
  } else {
    const d = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 1024 });
    img = { width: d.width, height: d.height, data: d.data };
  }
  if (img.width < MIN_IMAGE_SIDE || img.height < MIN_IMAGE_SIDE)
    throw new Error(`image size ${img.width}x${img.height} is below ${MIN_IMAGE_SIDE} pixels`);
  if (img.data.length !== img.width * img.height * 3) throw new Error('truncated pixel data');
  return img;
}

/** Deterministic PNG encoding (fixed filter and deflate settings): same pixels, same bytes. */
export function encodePng(img: RgbImage): Buffer {
  const png = new PNG({
    width: img.width,
    height: img.height,
    colorType: 2,
    inputColorType: 2,
    inputHasAlpha: false,
  });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return PNG.sync.write(png, {
    colorType: 2,
    inputColorType: 2,
    inputHasAlpha: false,
    deflateLevel: 6,
    filterType: 1,
  });
}

/** Reads width and height from a PNG IHDR or JPEG SOF marker without decoding the pixels. */
export function readImageHeader(bytes: Uint8Array): { width: number; height: number } {
  const format = sniffImageFormat(bytes);
  let dims: { width: number; height: number } | null = null;
  if (format === 'png' && bytes.length >= 24) {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    dims = { width: v.getUint32(16), height: v.getUint32(20) };
  } else if (format === 'jpeg') {
    let i = 2;
    while (i + 9 < bytes.length) {
      if (bytes[i] !== 0xff) {
        i++;
        continue;
      }
      const marker = bytes[i + 1]!;
      const len = (bytes[i + 2]! << 8) | bytes[i + 3]!;
      const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
      if (isSof) {
        dims = { height: (bytes[i + 5]! << 8) | bytes[i + 6]!, width: (bytes[i + 7]! << 8) | bytes[i + 8]! };
        break;
      }
      i += 2 + len;
    }
  }
  if (format === null) throw new Error('not a PNG or JPEG file');
  if (!dims) throw new Error('no image size in the header');
  if (dims.width < MIN_IMAGE_SIDE || dims.height < MIN_IMAGE_SIDE)
    throw new Error(`image size ${dims.width}x${dims.height} is below ${MIN_IMAGE_SIDE} pixels`);
  return dims;
}
