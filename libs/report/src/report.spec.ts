import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  boxesOverlap,
  csvField,
  lineChartSvg,
  linearScale,
  niceStep,
  niceTicks,
  paretoScatterSvg,
  placeLabels,
  toCsv,
} from './index';

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

describe('tick generation', () => {
  it('labels the former repeat cases distinctly (0.001, 0.0015 ... not 0.001, 0.001)', () => {
    const t = niceTicks(0.0009, 0.0031, { target: 6 });
    expect(t.labels).toEqual(['0.0005', '0.0010', '0.0015', '0.0020', '0.0025', '0.0030', '0.0035']);
    expect(new Set(t.labels).size).toBe(t.labels.length);
  });

  it('gives distinct labels, 1/2/5 steps and full coverage at any range', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.double({ min: 1e-9, max: 1e6, noNaN: true }),
        fc.integer({ min: 2, max: 12 }),
        (lo, span, target) => {
          // spans below a billionth of the values are beyond what a double can label
          fc.pre(span > Math.abs(lo) * 1e-9);
          const t = niceTicks(lo, lo + span, { target });
          expect(new Set(t.labels).size).toBe(t.labels.length);
          expect(t.domain[0]).toBeLessThanOrEqual(lo + t.step * 1e-6);
          expect(t.domain[1]).toBeGreaterThanOrEqual(lo + span - t.step * 1e-6);
          const lead = t.step / 10 ** Math.floor(Math.log10(t.step) + 1e-12);
          expect([1, 2, 5, 10].some((m) => Math.abs(lead - m) < 1e-6)).toBe(true);
          expect(t.labels.every((l) => l.split('.')[1]?.length === t.labels[0]!.split('.')[1]?.length)).toBe(
            true,
          );
        },
      ),
      { numRuns: 400 },
    );
  });

  it('puts only whole numbers on an integer axis, even for one or two points', () => {
    expect(niceTicks(0, 1, { integer: true }).ticks).toEqual([0, 1]);
    expect(niceTicks(1, 1, { integer: true }).labels).toEqual(['0', '1', '2']);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 5000 }), (a, b) => {
        const t = niceTicks(0, Math.max(a, b), { integer: true, target: 8 });
        expect(t.ticks.every(Number.isInteger)).toBe(true);
        expect(t.labels.every((l) => /^\d+$/.test(l))).toBe(true);
      }),
    );
  });

  it('handles degenerate and negative ranges', () => {
    expect(niceTicks(0.5, 0.5).labels.length).toBeGreaterThan(1);
    expect(niceTicks(-0.2, 0.2).labels).toContain('0.0');
    expect(niceTicks(-0.2, 0.2).labels).not.toContain('-0.0');
  });
});

describe('label placement', () => {
  const bounds = { x: 0, y: 0, width: 600, height: 400 };

  it('keeps labels of clustered points apart and inside the plot', () => {
    const requests = Array.from({ length: 8 }, (_, i) => ({
      x: 300 + i * 3,
      y: 200 - i * 2,
      text: `#${i} d0.33 w0.25 128px int8`,
    }));
    const placed = placeLabels(requests, {
      bounds,
      fontSize: 10,
      obstacles: requests.map((r) => ({ ...r, r: 5 })),
    });
    for (let i = 0; i < placed.length; i++) {
      expect(placed[i]!.overlaps).toBe(false);
      const b = placed[i]!.box;
      expect(b.x).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width).toBeLessThanOrEqual(600);
      for (let j = 0; j < i; j++) expect(boxesOverlap(b, placed[j]!.box)).toBe(false);
      for (const r of requests)
        expect(boxesOverlap(b, { x: r.x - 5, y: r.y - 5, width: 10, height: 10 })).toBe(false);
    }
  });

  it('never overlaps when there is room, for random points', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ x: fc.integer({ min: 40, max: 560 }), y: fc.integer({ min: 40, max: 360 }) }), {
          minLength: 1,
          maxLength: 6,
        }),
        (pts) => {
          const placed = placeLabels(
            pts.map((p, i) => ({ ...p, text: `#${i} d0.5 w0.5` })),
            { bounds, fontSize: 10 },
          );
          placed.forEach((p, i) => {
            if (p.overlaps) return;
            for (let j = 0; j < i; j++) expect(boxesOverlap(p.box, placed[j]!.box)).toBe(false);
          });
          // with six short labels on a 600x400 plot there is always room
          expect(placed.every((p) => !p.overlaps)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps a label near the right edge inside the bounds', () => {
    const [p] = placeLabels([{ x: 595, y: 10, text: 'a long label near the corner' }], { bounds });
    expect(p!.box.x + p!.box.width).toBeLessThanOrEqual(600);
    expect(p!.box.y).toBeGreaterThanOrEqual(0);
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

  it('draws the latency limit, infeasible trials as crosses in the legend, and distinct ticks', () => {
    const svg = paretoScatterSvg(
      [
        { x: 0.0011, y: 0.0012, highlighted: true, label: 'a' },
        { x: 0.0013, y: 0.0019 },
        { x: 0.0031, y: 0.0024, infeasible: true },
      ],
      {
        title: 't',
        xLabel: 'ms',
        yLabel: 'mAP',
        xLimit: { value: 0.0025, label: 'latency limit 0.0025 ms' },
      },
    );
    expect(svg).toContain('latency limit 0.0025 ms');
    expect(svg.match(/class="infeasible"/g)!.length).toBe(2); // the point and its legend marker
    expect(svg).toContain('infeasible (over the limit)');
    const tickLabels = [...svg.matchAll(/fill="#444">([^<]+)<\/text>/g)].map((m) => m[1]);
    const xLabels = tickLabels.slice(0, tickLabels.length / 2);
    expect(new Set(tickLabels).size).toBeGreaterThan(5);
    expect(new Set(xLabels).size).toBe(xLabels.length);
  });

  it('draws integer ticks and a caption on the hypervolume chart', () => {
    const svg = lineChartSvg([{ name: 'hv', points: [{ x: 1, y: 0.0012 }] }], {
      title: 't',
      xLabel: 'completed trials',
      yLabel: 'hv',
      integerX: true,
      caption: ['Hypervolume: explained here'],
    });
    expect(svg).toContain('Hypervolume: explained here');
    expect(svg).not.toMatch(/>0\.5<\/text>/);
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
