import { Controller, Get, Inject, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { pipeline } from 'node:stream/promises';
import type { Response } from '../http/express-types';
import { ORCHESTRATOR } from '../tokens';
import type { OrchestratorPort } from '../orchestrator.port';
import { ErrorDto } from '../http/error.dto';
import { TrialId } from '../http/ids';
import { TrialDto } from '../searches/views.dto';
import { CurvesDto } from '../searches/analysis.dto';

@ApiTags('trials')
@ApiNotFoundResponse({ type: ErrorDto, description: 'Unknown trial id (or no exported model)' })
@Controller('trials')
export class TrialsController {
  constructor(@Inject(ORCHESTRATOR) private readonly orchestrator: OrchestratorPort) {}

  @Get(':id')
  @ApiOperation({ summary: 'One trial: genome, metrics per epoch, latency per profile, timing, errors' })
  @ApiOkResponse({ type: TrialDto })
  get(@Param('id', TrialId) id: string): Promise<unknown> {
    return this.orchestrator.getTrial(id);
  }

  @Get(':id/curves')
  @ApiOperation({ summary: "The trial's learning curve: mAP, mAP@0.5 and loss per epoch" })
  @ApiOkResponse({ type: CurvesDto })
  curves(@Param('id', TrialId) id: string): Promise<unknown> {
    return this.orchestrator.trialCurves(id);
  }

  @Get(':id/model.onnx')
  @ApiOperation({
    summary:
      "The trial's exported ONNX model, streamed from the artifact store whatever machine ran the trial; " +
      'Content-Length, and its SHA-256 in ETag, X-Checksum-Sha256 and Digest',
  })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' } })
  async model(@Param('id', TrialId) id: string, @Res() res: Response): Promise<void> {
    const model = await this.orchestrator.openTrialModel(id);
    res.status(200);
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Disposition', `attachment; filename="${model.filename}"`);
    res.setHeader('Content-Length', String(model.size));
    res.setHeader('ETag', `"sha256-${model.sha256}"`);
    res.setHeader('X-Checksum-Sha256', model.sha256);
    res.setHeader('Digest', `sha-256=${Buffer.from(model.sha256, 'hex').toString('base64')}`);
    res.setHeader('Last-Modified', model.createdAt.toUTCString());
    // Streamed, never buffered; a client that goes away stops the read.
    await pipeline(model.stream, res).catch((err: unknown) => {
      if (!res.headersSent) throw new NotFoundException(`trial ${id}: its model could not be read`);
      res.destroy(err as Error);
    });
  }
}
