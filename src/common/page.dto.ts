import { Type } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';

/** Swagger shape of a page of `item`: `{items, total, limit, offset}`. Extend it: `class UserListDto extends PageOf(UserDto) {}`. */
export function PageOf<T>(item: Type<T>) {
  class Page {
    @ApiProperty({ type: [item] })
    items: T[];

    @ApiProperty()
    total: number;

    @ApiProperty()
    limit: number;

    @ApiProperty()
    offset: number;
  }
  return Page;
}
