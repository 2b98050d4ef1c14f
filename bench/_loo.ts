import { loadHardwareProfiles, leaveOneOut } from '@detsearch/latency';
for (const p of loadHardwareProfiles(undefined, { published: false })) {
  const t0 = Date.now();
  const r = leaveOneOut(p);
  console.log(p.name, r.figures, r.medianAbsError?.toFixed(3), r.worstRatio?.toFixed(2), r.kendallTau?.toFixed(2), Date.now()-t0, 'ms');
  for (const row of r.rows) console.log('   ', row.figure.model, row.figure.imageSize, row.figure.precision, row.figure.ms, row.predictedMs.toFixed(2), (100*row.error).toFixed(0)+'%');
}
