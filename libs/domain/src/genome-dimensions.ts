// The genome's fields as searches and the dashboard present them. The table lives beside the genome
// schema (libs/genome/src/genome.ts) so that a new dimension is one edit there.
export { GENOME_DIMENSION_TABLE, type GenomeDimensionInfo } from '@detsearch/genome';
