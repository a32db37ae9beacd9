import { registerDecorator, ValidationArguments, ValidationOptions } from 'class-validator';

/**
 * A class-validator decorator around a pure check that returns the problems it
 * found (each naming the field); they become the 400 message.
 */
export function Check(check: (value: unknown) => string[], options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: `check_${String(propertyName)}`,
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate: (value: unknown) => check(value).length === 0,
        defaultMessage: (args?: ValidationArguments) => check(args?.value).join('; '),
      },
    });
  };
}
