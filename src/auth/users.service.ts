import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppError } from '../common/app-error';
import { AppConfig } from '../config/app-config';
import { hashPassword, verifyPassword } from './password-hasher';
import type { Role } from '../common/role';
import { User } from './user.entity';

export const DEFAULT_ADMIN_PASSWORD = 'admin123';

/** How long a user looked up for a token is trusted without asking the database again. */
const AUTH_CACHE_MS = 5000;
const AUTH_CACHE_MAX = 10_000;

@Injectable()
export class UsersService implements OnApplicationBootstrap {
  private readonly logger = new Logger(UsersService.name);
  private readonly authCache = new Map<string, { user: User | null; until: number }>();

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly config: AppConfig,
  ) {}

  /** Creates the admin user on first start; warns while the default password works. */
  async onApplicationBootstrap(): Promise<void> {
    const username = this.config.get('ADMIN_USERNAME');
    let admin = await this.users.findOne({ where: { username } });
    if (!admin) {
      const passwordHash = await hashPassword(this.config.get('ADMIN_PASSWORD'));
      await this.users.createQueryBuilder().insert().values({ username, passwordHash, role: 'admin' }).orIgnore().execute();
      admin = await this.users.findOne({ where: { username } });
      this.logger.log(`Created the admin user "${username}"`);
    }
    if (admin && (await verifyPassword(DEFAULT_ADMIN_PASSWORD, admin.passwordHash))) {
      this.logger.warn(
        `The user "${username}" still has the default password: change it (POST /api/auth/change-password) or set ADMIN_PASSWORD before the first start.`,
      );
    }
  }

  async verifyCredentials(username: string, password: string): Promise<User | null> {
    const user = await this.users.findOne({ where: { username } });
    return (await verifyPassword(password, user?.passwordHash)) ? user : null;
  }

  /**
   * The user behind a token, cached for AUTH_CACHE_MS so that an API call does
   * not cost a query. Deleting a user clears its entry at once on this
   * instance; other instances notice within AUTH_CACHE_MS.
   */
  async findForAuth(id: string, now = Date.now()): Promise<User | null> {
    const hit = this.authCache.get(id);
    if (hit && hit.until > now) return hit.user;
    const user = await this.findById(id);
    if (this.authCache.size >= AUTH_CACHE_MAX) this.authCache.clear();
    this.authCache.set(id, { user, until: now + AUTH_CACHE_MS });
    return user;
  }

  async findById(id: string): Promise<User | null> {
    return this.users.findOne({ where: { id } });
  }

  async list(limit: number, offset: number): Promise<[User[], number]> {
    return this.users.findAndCount({ order: { createdAt: 'ASC' }, take: limit, skip: offset });
  }

  async create(username: string, password: string, role: Role): Promise<User> {
    if (await this.users.exist({ where: { username } })) {
      throw new AppError('USERNAME_TAKEN', `The username "${username}" is already taken`);
    }
    const user = this.users.create({ username, passwordHash: await hashPassword(password), role });
    return this.users.save(user);
  }

  async changePassword(id: string, current: string, next: string): Promise<void> {
    const user = await this.findById(id);
    if (!user || !(await verifyPassword(current, user.passwordHash))) {
      throw new AppError('INVALID_CREDENTIALS', 'The current password is wrong');
    }
    await this.users.update({ id }, { passwordHash: await hashPassword(next) });
  }

  async remove(id: string, actingUserId: string): Promise<void> {
    const user = await this.findById(id);
    if (!user) throw new AppError('USER_NOT_FOUND', `No user with id ${id}`);
    if (id === actingUserId) throw new AppError('CONFLICT', 'You cannot delete your own account');
    if (user.role === 'admin' && (await this.users.count({ where: { role: 'admin' } })) <= 1) {
      throw new AppError('CONFLICT', 'The last admin cannot be deleted');
    }
    await this.users.delete({ id });
    this.authCache.delete(id);
  }
}
