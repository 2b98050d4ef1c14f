import type { HardwareProfile } from './profile';

/** Where a reported latency comes from: timed on a machine, or the roofline model of a profile. */
export const LATENCY_SOURCES = ['measured', 'predicted'] as const;
export type LatencySource = (typeof LATENCY_SOURCES)[number];

/** What a profile's predictions are calibrated on, in a few words. */
export function calibrationBasis(profile: HardwareProfile): string {
  const c = profile.calibration;
  if (!c) return 'uncalibrated datasheet profile';
  const n = Object.values(c.samples).reduce((a, b) => a + b, 0);
  const day = c.fittedAt.slice(0, 10);
  switch (c.basis) {
    case 'published':
      return `roofline fitted to ${n} published figures listed in its profile`;
    case 'host':
      return `roofline calibrated on ${n} genomes measured on ${profile.device.split(',')[0]} (${day})`;
    case 'device':
      return `roofline calibrated on ${n} measurements from the device (${day})`;
    default:
      return `roofline calibrated on ${n} measured latencies (${day})`;
  }
}

/** "predicted for <profile> (<what it is calibrated on>)". */
export function predictedProvenance(profile: HardwareProfile): string {
  return `predicted for ${profile.name} (${calibrationBasis(profile)})`;
}

export interface MeasuredWhere {
  /** The machine, e.g. a CPU model name or a device profile. */
  where: string;
  threads: number;
  runs?: number;
  runtime?: string;
}

/** "measured on <where> with <runtime>, <threads> thread(s), median of <runs> runs". */
export function measuredProvenance(m: MeasuredWhere): string {
  return (
    `measured on ${m.where} with ${m.runtime ?? 'onnxruntime CPU'}, ${m.threads} thread${m.threads === 1 ? '' : 's'}` +
    (m.runs ? `, median of ${m.runs} runs` : '')
  );
}
