import { BadRequestException, ValidationError, ValidationPipe, ValidationPipeOptions } from '@nestjs/common';

/** "events.0: must be …" lines, one per failed constraint, nested properties included. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): string[] {
  const out: string[] = [];
  for (const err of errors) {
    const path = parent ? `${parent}.${err.property}` : err.property;
    for (const message of Object.values(err.constraints ?? {})) out.push(message);
    if (err.children?.length) out.push(...flattenValidationErrors(err.children, path));
  }
  return out;
}

export const validationOptions: ValidationPipeOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  transformOptions: { enableImplicitConversion: false },
  stopAtFirstError: false,
  validationError: { target: false, value: false },
  exceptionFactory: (errors: ValidationError[]) => {
    const messages = flattenValidationErrors(errors);
    return new BadRequestException({ message: messages, code: 'VALIDATION_FAILED', details: messages });
  },
};

/** The one global ValidationPipe, used by main.ts and the e2e set-up alike. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe(validationOptions);
}
