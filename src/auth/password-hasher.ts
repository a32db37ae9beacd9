import * as bcrypt from 'bcryptjs';

const ROUNDS = 10;
/** Compared against when the username is unknown, so both paths cost the same. */
const DUMMY_HASH = bcrypt.hashSync('atlas-webhooks-dummy-password', ROUNDS);

export async function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, ROUNDS);
}

export async function verifyPassword(password: string, hash: string | undefined): Promise<boolean> {
  const ok = await bcrypt.compare(password, hash ?? DUMMY_HASH);
  return ok && hash !== undefined;
}
