import { Controller, Get, Inject, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { resolve as resolvePath } from 'node:path';
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
  @ApiOperation({ summary: "The trial's exported ONNX model" })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' } })
  async model(@Param('id', TrialId) id: string, @Res() res: Response): Promise<void> {
    const path = await this.orchestrator.trialModelPath(id);
    if (!path) throw new NotFoundException(`trial ${id} has no exported model`);
    // sendFile streams with Content-Length and handles client aborts.
    const headers = {
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': `attachment; filename="trial-${id}.onnx"`,
    };
    await new Promise<void>((resolve, reject) =>
      res.sendFile(resolvePath(path), { headers }, (err) =>
        err && !res.headersSent
          ? reject(new NotFoundException(`trial ${id}: model file missing`))
          : resolve(),
      ),
    );
  }
}
