import { describe, expect, it } from 'vitest';
import { float16Bits, float16ToFloat32, toFloat16 } from './proto';

describe('float16 conversion', () => {
  it('encodes known values', () => {
    expect(float16Bits(1)).toBe(0x3c00);
    expect(float16Bits(-2)).toBe(0xc000);
    expect(float16Bits(65504)).toBe(0x7bff);
    expect(float16Bits(1e6)).toBe(0x7c00);
    expect(float16Bits(0.1)).toBe(0x2e66);
    expect(float16Bits(2 ** -24)).toBe(0x0001);
    expect(float16Bits(2 ** -26)).toBe(0);
    expect(float16Bits(NaN) & 0x7c00).toBe(0x7c00);
  });

  it('round-trips every finite half value exactly', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) === 0x7c00) continue;
      const f = float16ToFloat32(bits);
      const back = float16Bits(f);
      if (Object.is(f, -0)) expect(back).toBe(0x8000);
      else expect(back).toBe(bits);
    }
  });

  it('rounds to nearest, ties to even', () => {
    // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties to the even mantissa (1).
    expect(float16Bits(1 + 2 ** -11)).toBe(0x3c00);
    expect(float16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    const data = Float32Array.from([0.333, -7.25, 1234.5]);
    const half = toFloat16(data);
    data.forEach((v, i) =>
      expect(Math.abs(float16ToFloat32(half[i]!) - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11),
    );
  });
});
