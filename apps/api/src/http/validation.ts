import { BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';

export interface FieldIssue {
  field: string;
  message: string;
}

/** Flattens class-validator's tree into `budget.trials: must not be greater than 10000` lines. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldIssue[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.entries(e.constraints ?? {}).map(([rule, text]) => ({
      field,
      // class-validator starts each message with the property name; keep the full path instead.
      message:
        rule === 'whitelistValidation'
          ? 'unknown field'
          : text.startsWith(`${e.property} `)
            ? text.slice(e.property.length + 1)
            : text,
    }));
    return [...own, ...flattenValidationErrors(e.children ?? [], field)];
  });
}

/**
 * Validation at the edge: unknown fields are rejected (not silently dropped), types are not
 * coerced in bodies, and every 400 names the offending field.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: true,
    exceptionFactory: (errors) => {
      const issues = flattenValidationErrors(errors);
      return new BadRequestException({
        message: issues.map((i) => `${i.field}: ${i.message}`).join('; '),
        error: 'Bad Request',
        field: issues[0]?.field,
        issues,
      });
    },
  });
}
