import type { UserDto } from './auth.dto';
import type { User } from './user.entity';

/** The public shape of a user: never the password hash. */
export function presentUser(user: User): UserDto {
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
  };
}
