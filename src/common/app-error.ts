/**
 * Domain errors carry a code; `ERROR_STATUS` maps every code to its HTTP status
 * in one place (the exception filter applies it). Services throw these, never
 * HttpExceptions, so the same error reads the same from REST and from code.
 */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  INVALID_ID: 400,
  MALFORMED_JSON: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  WEBHOOK_NOT_FOUND: 404,
  LOG_NOT_FOUND: 404,
  EVENT_NOT_FOUND: 404,
  USER_NOT_FOUND: 404,
  USERNAME_TAKEN: 409,
  CONFLICT: 409,
  IDEMPOTENCY_CONFLICT: 409,
  EVENT_TYPE_EXISTS: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNKNOWN_EVENT_TYPE: 400,
  SCHEMA_VALIDATION_FAILED: 422,
  TOO_MANY_REQUESTS: 429,
  DATABASE_UNAVAILABLE: 503,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    /** Extra response headers, e.g. Retry-After. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}
