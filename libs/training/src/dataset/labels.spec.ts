import { describe, expect, it } from 'vitest';
import { labelPathForImage, parseLabelText } from './labels';

describe('parseLabelText', () => {
  it('reads rows `class cx cy w h`, tolerating blank lines, CRLF and extra spaces', () => {
    const r = parseLabelText('0 0.5 0.5 0.2 0.3\r\n\n  2   0.1 0.9 0.05 0.05  \n', 3);
    expect(r.boxes).toEqual([
      { cls: 0, cx: 0.5, cy: 0.5, w: 0.2, h: 0.3 },
      { cls: 2, cx: 0.1, cy: 0.9, w: 0.05, h: 0.05 },
    ]);
    expect(r.badRows).toEqual([]);
  });

  it('rejects bad rows one by one and keeps the rest', () => {
    const text = [
      '0 0.5 0.5 0.2', // 4 columns
      '0 0.5 0.5 0.2 0.2 0.1 0.3', // segment-like extra columns
      '1 0.5 abc 0.2 0.2', // non-numeric
      '3 0.5 0.5 0.2 0.2', // class >= nc
      '-1 0.5 0.5 0.2 0.2', // negative class
      '1.5 0.5 0.5 0.2 0.2', // fractional class
      '1 1.2 0.5 0.2 0.2', // centre out of range
      '1 0.5 0.5 0 0.2', // zero width
      '1 0.5 0.5 0.2 NaN', // NaN
      '2 0.25 0.75 0.5 0.5', // good
    ].join('\n');
    const r = parseLabelText(text, 3);
    expect(r.boxes).toEqual([{ cls: 2, cx: 0.25, cy: 0.75, w: 0.5, h: 0.5 }]);
    expect(r.badRows).toHaveLength(9);
    expect(r.badRows[0]).toMatch(/^line 1: expected 5 columns/);
    expect(r.badRows[3]).toMatch(/^line 4: class 3 is not an integer in \[0, 3\)/);
    expect(r.badRows[6]).toMatch(/^line 7: coordinates/);
  });

  it('drops exact duplicate rows as Ultralytics does', () => {
    const r = parseLabelText('0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2 0.2\n', 1);
    expect(r.boxes).toHaveLength(1);
    expect(r.duplicates).toBe(1);
  });
});

describe('labelPathForImage', () => {
  it('swaps the last /images/ for /labels/ and the extension for .txt', () => {
    expect(labelPathForImage('/d/images/train/a.b.jpg')).toBe('/d/labels/train/a.b.txt');
    expect(labelPathForImage('/images/x/images/y/a.png')).toBe('/images/x/labels/y/a.txt');
    expect(labelPathForImage('/d/pics/a.png')).toBe('/d/pics/a.txt');
  });
});
