import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { ROLES, Role } from '../common/role';
import { PageOf } from '../common/page.dto';

export class LoginDto {
  @ApiProperty({ example: 'admin' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  username: string;

  @ApiProperty({ example: 'admin123' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  password: string;
}

export class TokenResponseDto {
  @ApiProperty({ description: 'JWT (HS256) to send as `Authorization: Bearer <access_token>`' })
  access_token: string;

  @ApiProperty({ example: 'bearer' })
  token_type: 'bearer';

  @ApiProperty({ description: 'Lifetime in seconds', example: 3600 })
  expires_in: number;
}

export class ChangePasswordDto {
  @ApiProperty()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  current_password: string;

  @ApiProperty({ minLength: 8 })
  @IsString()
  @MinLength(8)
  @MaxLength(200)
  new_password: string;
}

export class CreateUserDto {
  @ApiProperty({ example: 'operator', pattern: '^[A-Za-z0-9._-]{3,100}$' })
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{3,100}$/, { message: 'username must be 3-100 letters, digits, dots, underscores or dashes' })
  username: string;

  @ApiProperty({ minLength: 8 })
  @IsString()
  @MinLength(8)
  @MaxLength(200)
  password: string;

  @ApiProperty({ enum: ROLES, default: 'viewer' })
  @IsIn(ROLES)
  role: Role;
}

export class UserDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  username: string;

  @ApiProperty({ enum: ROLES })
  role: Role;

  @ApiProperty()
  created_at: string;

  @ApiProperty()
  updated_at: string;
}

export class UserListDto extends PageOf(UserDto) {}
