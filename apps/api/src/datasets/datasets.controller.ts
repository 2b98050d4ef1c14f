import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { readdir } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { API_CONFIG } from '../tokens';
import type { ApiConfig } from '../config';

/** How deep below DATA_ROOT to look, and how many files to list at most. */
const MAX_DEPTH = 4;
const MAX_ITEMS = 500;
const SKIPPED = new Set(['node_modules', 'images', 'labels']);

export class DatasetDto {
  @ApiProperty({ description: 'data.yaml path relative to DATA_ROOT, as a launch request names it' })
  path!: string;
}

export class DatasetsDto {
  @ApiProperty({ type: [DatasetDto] }) items!: DatasetDto[];
  @ApiProperty({ description: `True when the listing stopped at ${MAX_ITEMS} files` }) truncated!: boolean;
}

/** The data.yaml files below `root` (hidden folders and image/label trees skipped), relative, sorted. */
export async function listDatasets(root: string): Promise<DatasetsDto> {
  const base = resolve(root);
  const found: string[] = [];
  let truncated = false;
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // unreadable folders are skipped, not an error
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (found.length >= MAX_ITEMS) {
        truncated = true;
        return;
      }
      if (e.isFile() && /^data\.ya?ml$/i.test(e.name)) found.push(relative(base, join(dir, e.name)));
      else if (e.isDirectory() && depth < MAX_DEPTH && !e.name.startsWith('.') && !SKIPPED.has(e.name))
        await walk(join(dir, e.name), depth + 1);
    }
  };
  await walk(base, 0);
  return { items: found.sort().map((p) => ({ path: p.split(sep).join('/') })), truncated };
}

@ApiTags('datasets')
@Controller('datasets')
export class DatasetsController {
  constructor(@Inject(API_CONFIG) private readonly config: ApiConfig) {}

  @Get()
  @ApiOperation({ summary: 'data.yaml files below DATA_ROOT, as paths a launch request accepts' })
  @ApiOkResponse({ type: DatasetsDto })
  list(): Promise<DatasetsDto> {
    return listDatasets(this.config.DATA_ROOT ?? '.');
  }
}
