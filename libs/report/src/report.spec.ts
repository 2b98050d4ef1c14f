import { describe, expect, it } from 'vitest';
import { csvField, lineChartSvg, linearScale, niceStep, paretoScatterSvg, toCsv } from './index';

describe('nice scales', () => {
  it('chooses 1/2/5 steps that cover the data', () => {
    expect(niceStep(1, 5)).toBeCloseTo(0.2);
    expect(niceStep(37, 6)).toBe(10);
    const s = linearScale([0.13, 0.71], [0, 100], 6);
    expect(s.domain[0]).toBeLessThanOrEqual(0.13);
    expect(s.domain[1]).toBeGreaterThanOrEqual(0.71);
    expect(s(s.domain[0])).toBe(0);
    expect(s(s.domain[1])).toBe(100);
  });
});

describe('charts', () => {
  const points = [
    { x: 10, y: 0.3, label: 'a', highlighted: true },
    { x: 20, y: 0.5, label: 'b', highlighted: true },
    { x: 25, y: 0.4 },
  ];

  it('draws every trial, highlights and labels the front', () => {
    const svg = paretoScatterSvg(points, { title: 'mAP vs latency <host>', xLabel: 'ms', yLabel: 'mAP' });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<circle cx/g)!.length).toBe(3 + 2); // 3 points + 2 legend dots
    expect(svg).toContain('&lt;host&gt;');
    expect(svg).toContain('>a</text>');
    expect(svg).toContain('stroke-dasharray');
  });

  it('draws lines', () => {
    const svg = lineChartSvg(
      [
        {
          name: 'hv',
          points: [
            { x: 1, y: 0.1 },
            { x: 2, y: 0.2 },
          ],
        },
      ],
      {
        title: 't',
        xLabel: 'trials',
        yLabel: 'hv',
      },
    );
    expect(svg).toMatch(/<path d="M[\d.]+,[\d.]+ L/);
  });
});

describe('csv', () => {
  it('quotes what needs quoting', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField({ a: [1, 2] })).toBe('"{""a"":[1,2]}"');
    expect(toCsv([{ id: 1, g: 'x' }], ['id', 'g'])).toBe('id,g\n1,x\n');
  });
});
