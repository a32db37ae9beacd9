import { Injectable, PipeTransform } from '@nestjs/common';
import { AppError } from './app-error';
import { isUuid } from './uuid';

/** Path ids must be UUIDs: anything else is a 400 that names the parameter. */
@Injectable()
export class UuidParamPipe implements PipeTransform<string, string> {
  constructor(private readonly name = 'id') {}

  transform(value: string): string {
    if (!isUuid(value)) throw new AppError('INVALID_ID', `${this.name} must be a UUID, got "${String(value).slice(0, 64)}"`);
    return value.toLowerCase();
  }
}
